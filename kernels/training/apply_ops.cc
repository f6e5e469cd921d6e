// Fused optimizer updates: one pass over the variable and its slots, under their locks
// (taken in input order, the same for every Apply op).
#include <cmath>

#include "Eigen/Core"
#include "core/kernel_registry.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

template <typename T>
using ConstVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

// A rule names how many refs (variable + slots) the op takes and where its gradient is,
// and updates a range given the refs, the scalar inputs (in input order) and the gradient.
template <typename T, typename Rule>
class ApplyOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    if (ctx->HasAttr("use_nesterov")) RETURN_IF_ERROR(ctx->GetAttr("use_nesterov", &nesterov_));
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& grad = ctx->input(Rule::kGrad);
    T* refs[Rule::kRefs];
    std::unique_lock<std::mutex> locks[Rule::kRefs];
    RETURN_IF_ERROR(LockApplyRefs(ctx, Rule::kRefs, grad.shape(), locks));
    for (int r = 0; r < Rule::kRefs; ++r) {
      PrepareForInPlaceUpdate(ctx->input_ref(r));
      refs[r] = ctx->input_ref(r).tensor->data<T>();
    }
    T scalars[8];
    RETURN_IF_ERROR(ApplyScalars(ctx, Rule::kRefs, Rule::kGrad, scalars));
    const T* g = grad.data<T>();
    const bool nesterov = nesterov_;
    // A rule makes one pass per slot; blocks of kBlock elements keep them in L1.
    constexpr int64_t kBlock = 1024;
    ctx->thread_pool()->ParallelFor(grad.NumElements(), 16, [&](int64_t begin, int64_t end) {
      for (int64_t b = begin; b < end; b += kBlock) {
        T* block[Rule::kRefs];
        for (int r = 0; r < Rule::kRefs; ++r) block[r] = refs[r] + b;
        Rule::Update(block, scalars, ConstVec<T>(g + b, std::min(end, b + kBlock) - b), nesterov);
      }
    });
    ctx->set_output_ref(0, ctx->input_ref(0));
    return absl::OkStatus();
  }

 private:
  bool nesterov_ = false;
};

// Rules update a range at once through Eigen arrays, so the arithmetic vectorizes.
template <typename T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

template <typename T>
struct GradientDescentRule {  // (var, alpha, delta)
  static constexpr int kRefs = 1, kGrad = 2;
  static void Update(T* const* r, const T* s, ConstVec<T> g, bool) {
    Vec<T>(r[0], g.size()) -= s[0] * g;
  }
};

template <typename T>
struct MomentumRule {  // (var, accum, lr, grad, momentum)
  static constexpr int kRefs = 2, kGrad = 3;
  static void Update(T* const* r, const T* s, ConstVec<T> g, bool nesterov) {
    const T lr = s[0], momentum = s[1];
    Vec<T> var(r[0], g.size()), accum(r[1], g.size());
    accum = accum * momentum + g;
    if (nesterov) {
      var -= lr * (g + momentum * accum);
    } else {
      var -= lr * accum;
    }
  }
};

template <typename T>
struct AdagradRule {  // (var, accum, lr, grad)
  static constexpr int kRefs = 2, kGrad = 3;
  static void Update(T* const* r, const T* s, ConstVec<T> g, bool) {
    Vec<T> var(r[0], g.size()), accum(r[1], g.size());
    accum += g.square();
    var -= s[0] * g * accum.rsqrt();
  }
};

template <typename T>
struct RMSPropRule {  // (var, ms, mom, lr, rho, momentum, epsilon, grad)
  static constexpr int kRefs = 3, kGrad = 7;
  static void Update(T* const* r, const T* s, ConstVec<T> g, bool) {
    const T lr = s[0], rho = s[1], momentum = s[2], epsilon = s[3];
    Vec<T> var(r[0], g.size()), ms(r[1], g.size()), mom(r[2], g.size());
    ms = rho * ms + (T(1) - rho) * g.square();
    mom = momentum * mom + lr * g * (ms + epsilon).rsqrt();
    var -= mom;
  }
};

template <typename T>
struct CenteredRMSPropRule {  // (var, mg, ms, mom, lr, rho, momentum, epsilon, grad)
  static constexpr int kRefs = 4, kGrad = 8;
  static void Update(T* const* r, const T* s, ConstVec<T> g, bool) {
    const T lr = s[0], rho = s[1], momentum = s[2], epsilon = s[3];
    Vec<T> var(r[0], g.size()), mg(r[1], g.size()), ms(r[2], g.size()), mom(r[3], g.size());
    mg = rho * mg + (T(1) - rho) * g;
    ms = rho * ms + (T(1) - rho) * g.square();
    mom = momentum * mom + lr * g * (ms - mg.square() + epsilon).rsqrt();
    var -= mom;
  }
};

template <typename T>
struct AdamRule {  // (var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad)
  static constexpr int kRefs = 3, kGrad = 9;
  static void Update(T* const* r, const T* s, ConstVec<T> g, bool nesterov) {
    const T beta1_power = s[0], beta2_power = s[1], lr = s[2], beta1 = s[3], beta2 = s[4],
            epsilon = s[5];
    const T alpha = lr * std::sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
    Vec<T> var(r[0], g.size()), m(r[1], g.size()), v(r[2], g.size());
    m += (g - m) * (T(1) - beta1);
    v += (g.square() - v) * (T(1) - beta2);
    if (nesterov) {
      var -= alpha * (m * beta1 + (T(1) - beta1) * g) / (v.sqrt() + epsilon);
    } else {
      var -= alpha * m / (v.sqrt() + epsilon);
    }
  }
};

template <template <typename> class Rule>
struct Kernel {
  template <typename T>
  using Op = ApplyOp<T, Rule<T>>;
};

REGISTER_KERNEL_FOR_TYPES("ApplyGradientDescent", kCpu, "T", Kernel<GradientDescentRule>::Op, float,
                          double);
REGISTER_KERNEL_FOR_TYPES("ApplyMomentum", kCpu, "T", Kernel<MomentumRule>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("ApplyAdagrad", kCpu, "T", Kernel<AdagradRule>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("ApplyRMSProp", kCpu, "T", Kernel<RMSPropRule>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("ApplyCenteredRMSProp", kCpu, "T", Kernel<CenteredRMSPropRule>::Op, float,
                          double);
REGISTER_KERNEL_FOR_TYPES("ApplyAdam", kCpu, "T", Kernel<AdamRule>::Op, float, double);

}  // namespace
}  // namespace runnel
