// Activation functions, elementwise, vectorized through Eigen arrays.
#include <cmath>
#include <type_traits>

#include "kernels/util/cwise_ops.h"

namespace runnel {
namespace {

template <typename T>
struct ReluF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.max(T(0)); }
};
template <typename T>
struct Relu6F {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.max(T(0)).min(T(6)); }
};
template <typename T>
struct EluF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const {
    y = (x > T(0)).select(x, x.exp() - T(1));
  }
};
template <typename T>
struct SeluF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const {
    const T alpha = T(1.6732632423543772848170429916717);
    const T scale = T(1.0507009873554804934193349852946);
    y = (x > T(0)).select(scale * x, scale * alpha * (x.exp() - T(1)));
  }
};
template <typename T>
struct LeakyReluF {
  absl::Status Init(OpKernelConstruction* ctx) { return ctx->GetAttr("alpha", &alpha); }
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const {
    y = (x > T(0)).select(x, static_cast<T>(alpha) * x);
  }
  float alpha = 0.2f;
};
template <typename T>
struct SoftplusF {
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|), which never overflows.
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const {
    y = x.max(T(0)) + (-x.abs()).exp().log1p();
  }
};
template <typename T>
struct SoftsignF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x / (x.abs() + T(1)); }
};

// The activations' gradient ops: out = G(dy, v) elementwise in one pass, where v is the
// forward op's input (or, for Elu and Selu, its output, as in TensorFlow). The output
// reuses dy's buffer when nobody else holds it.
template <typename T, typename G>
class ActivationGradOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    value_name_ = ctx->op_def().input_arg(1).name();
    if constexpr (HasAlpha<G>::value) return ctx->GetAttr("alpha", &g_.alpha);
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& dy = ctx->input(0);
    const Tensor& v = ctx->input(1);
    RN_REQUIRE(dy.shape() == v.shape(), "gradients have shape ", dy.shape().DebugString(),
               " but ", value_name_, " have shape ",
               v.shape().DebugString());
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, v.shape(), &out));
    const T* g = dy.data<T>();
    const T* f = v.data<T>();
    T* o = out->data<T>();
    ctx->thread_pool()->ParallelFor(v.NumElements(), 4, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = g_(g[i], f[i]);
    });
    return absl::OkStatus();
  }

 private:
  template <typename U, typename = void>
  struct HasAlpha : std::false_type {};
  template <typename U>
  struct HasAlpha<U, std::void_t<decltype(std::declval<U>().alpha)>> : std::true_type {};
  G g_;
  std::string value_name_;
};

// Each takes the gradient first, then the value the mask depends on; loading the gradient
// unconditionally lets the selects compile without branches.
template <typename T>
struct ReluGradG {
  T operator()(T g, T x) const { return x > T(0) ? g : T(0); }
};
template <typename T>
struct Relu6GradG {
  T operator()(T g, T x) const { return x > T(0) && x < T(6) ? g : T(0); }
};
template <typename T>
struct LeakyReluGradG {
  T operator()(T g, T x) const { return x > T(0) ? g : static_cast<T>(alpha) * g; }
  float alpha = 0.2f;
};
template <typename T>
struct EluGradG {  // from the output y: elu'(x) = y + 1 where y < 0
  T operator()(T g, T y) const { return y < T(0) ? g * (y + T(1)) : g; }
};
template <typename T>
struct SeluGradG {  // from the output y
  T operator()(T g, T y) const {
    const T scale = T(1.0507009873554804934193349852946);
    const T scale_alpha = T(1.7580993408473768599402175208123);
    return y < T(0) ? g * (y + scale_alpha) : g * scale;
  }
};
template <typename T>
struct SoftplusGradG {
  T operator()(T g, T x) const { return g / (T(1) + std::exp(-x)); }
};

template <template <typename> class G>
struct GradKernel {
  template <typename T>
  using Op = ActivationGradOp<T, G<T>>;
};

REGISTER_KERNEL_FOR_TYPES("Relu", kCpu, "T", UnaryKernel<ReluF>::Op, float, double, int32_t,
                          int64_t);
REGISTER_KERNEL_FOR_TYPES("ReluGrad", kCpu, "T", GradKernel<ReluGradG>::Op, float, double,
                          int32_t, int64_t);
REGISTER_KERNEL_FOR_TYPES("Relu6Grad", kCpu, "T", GradKernel<Relu6GradG>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("LeakyReluGrad", kCpu, "T", GradKernel<LeakyReluGradG>::Op, float,
                          double);
REGISTER_KERNEL_FOR_TYPES("EluGrad", kCpu, "T", GradKernel<EluGradG>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("SeluGrad", kCpu, "T", GradKernel<SeluGradG>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("SoftplusGrad", kCpu, "T", GradKernel<SoftplusGradG>::Op, float,
                          double);
REGISTER_KERNEL_FOR_TYPES("Relu6", kCpu, "T", UnaryKernel<Relu6F>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Elu", kCpu, "T", UnaryKernel<EluF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Selu", kCpu, "T", UnaryKernel<SeluF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("LeakyRelu", kCpu, "T", UnaryKernel<LeakyReluF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Softplus", kCpu, "T", UnaryKernel<SoftplusF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Softsign", kCpu, "T", UnaryKernel<SoftsignF>::Op, float, double);

}  // namespace
}  // namespace runnel
