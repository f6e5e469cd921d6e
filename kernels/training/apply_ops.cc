// Fused optimizer updates: one pass over the variable and its slots, under their locks
// (taken in input order, the same for every Apply op).
#include <cmath>

#include "core/kernel_registry.h"

namespace runnel {
namespace {

// A rule names how many refs (variable + slots) the op takes and where its gradient is,
// and updates element i given the refs, the scalar inputs (in input order) and g.
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
    for (int r = 0; r < Rule::kRefs; ++r) {
      const TensorRef& ref = ctx->input_ref(r);
      locks[r] = std::unique_lock<std::mutex>(*ref.mu);
      if (!ref.tensor->IsInitialized()) {
        return absl::FailedPreconditionError(
            absl::StrCat("Attempting to use uninitialized value ", *ref.name));
      }
      RN_REQUIRE(ref.tensor->shape() == grad.shape(), *ref.name, " has shape ",
                 ref.tensor->shape().DebugString(), " but the gradient has shape ",
                 grad.shape().DebugString());
      PrepareForInPlaceUpdate(ref);
      refs[r] = ref.tensor->data<T>();
    }
    T scalars[8];
    int n = 0;
    for (int i = Rule::kRefs; i < ctx->num_inputs(); ++i) {
      if (i == Rule::kGrad) continue;
      RN_REQUIRE(ctx->input(i).NumElements() == 1, "input ", i, " must be a scalar, got shape ",
                 ctx->input(i).shape().DebugString());
      scalars[n++] = ctx->input(i).scalar<T>();
    }
    const T* g = grad.data<T>();
    const bool nesterov = nesterov_;
    ctx->thread_pool()->ParallelFor(grad.NumElements(), 8, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) Rule::Update(refs, scalars, g[i], i, nesterov);
    });
    ctx->set_output_ref(0, ctx->input_ref(0));
    return absl::OkStatus();
  }

 private:
  bool nesterov_ = false;
};

template <typename T>
struct GradientDescentRule {  // (var, alpha, delta)
  static constexpr int kRefs = 1, kGrad = 2;
  static void Update(T* const* r, const T* s, T g, int64_t i, bool) { r[0][i] -= s[0] * g; }
};

template <typename T>
struct MomentumRule {  // (var, accum, lr, grad, momentum)
  static constexpr int kRefs = 2, kGrad = 3;
  static void Update(T* const* r, const T* s, T g, int64_t i, bool nesterov) {
    const T lr = s[0], momentum = s[1];
    T& accum = r[1][i];
    accum = accum * momentum + g;
    r[0][i] -= nesterov ? lr * (g + momentum * accum) : lr * accum;
  }
};

template <typename T>
struct AdagradRule {  // (var, accum, lr, grad)
  static constexpr int kRefs = 2, kGrad = 3;
  static void Update(T* const* r, const T* s, T g, int64_t i, bool) {
    r[1][i] += g * g;
    r[0][i] -= s[0] * g / std::sqrt(r[1][i]);
  }
};

template <typename T>
struct RMSPropRule {  // (var, ms, mom, lr, rho, momentum, epsilon, grad)
  static constexpr int kRefs = 3, kGrad = 7;
  static void Update(T* const* r, const T* s, T g, int64_t i, bool) {
    const T lr = s[0], rho = s[1], momentum = s[2], epsilon = s[3];
    T& ms = r[1][i];
    T& mom = r[2][i];
    ms = rho * ms + (T(1) - rho) * g * g;
    mom = momentum * mom + lr * g / std::sqrt(ms + epsilon);
    r[0][i] -= mom;
  }
};

template <typename T>
struct CenteredRMSPropRule {  // (var, mg, ms, mom, lr, rho, momentum, epsilon, grad)
  static constexpr int kRefs = 4, kGrad = 8;
  static void Update(T* const* r, const T* s, T g, int64_t i, bool) {
    const T lr = s[0], rho = s[1], momentum = s[2], epsilon = s[3];
    T& mg = r[1][i];
    T& ms = r[2][i];
    T& mom = r[3][i];
    mg = rho * mg + (T(1) - rho) * g;
    ms = rho * ms + (T(1) - rho) * g * g;
    mom = momentum * mom + lr * g / std::sqrt(ms - mg * mg + epsilon);
    r[0][i] -= mom;
  }
};

template <typename T>
struct AdamRule {  // (var, m, v, beta1_power, beta2_power, lr, beta1, beta2, epsilon, grad)
  static constexpr int kRefs = 3, kGrad = 9;
  static void Update(T* const* r, const T* s, T g, int64_t i, bool nesterov) {
    const T beta1_power = s[0], beta2_power = s[1], lr = s[2], beta1 = s[3], beta2 = s[4],
            epsilon = s[5];
    const T alpha = lr * std::sqrt(T(1) - beta2_power) / (T(1) - beta1_power);
    T& m = r[1][i];
    T& v = r[2][i];
    m += (g - m) * (T(1) - beta1);
    v += (g * g - v) * (T(1) - beta2);
    const T step = nesterov ? m * beta1 + (T(1) - beta1) * g : m;
    r[0][i] -= alpha * step / (std::sqrt(v) + epsilon);
  }
};

template <template <typename> class Rule>
struct Kernel {
  template <typename T>
  using Op = ApplyOp<T, Rule<T>>;
};

REGISTER_KERNEL_FOR_TYPES("ApplyGradientDescent", kCpu, "T", Kernel<GradientDescentRule>::Op,
                          float, double);
REGISTER_KERNEL_FOR_TYPES("ApplyMomentum", kCpu, "T", Kernel<MomentumRule>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("ApplyAdagrad", kCpu, "T", Kernel<AdagradRule>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("ApplyRMSProp", kCpu, "T", Kernel<RMSPropRule>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("ApplyCenteredRMSProp", kCpu, "T", Kernel<CenteredRMSPropRule>::Op,
                          float, double);
REGISTER_KERNEL_FOR_TYPES("ApplyAdam", kCpu, "T", Kernel<AdamRule>::Op, float, double);

}  // namespace
}  // namespace runnel
