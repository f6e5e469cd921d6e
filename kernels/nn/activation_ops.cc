// Activation functions, elementwise, vectorized through Eigen arrays.
#include "kernels/math/cwise_ops.h"

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

// dy * (x > 0) in one pass; the output reuses dy's buffer when nobody else holds it.
template <typename T>
class ReluGradOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& dy = ctx->input(0);
    const Tensor& x = ctx->input(1);
    RN_REQUIRE(dy.shape() == x.shape(), "gradients have shape ", dy.shape().DebugString(),
               " but features have shape ", x.shape().DebugString());
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &out));
    const T* g = dy.data<T>();
    const T* f = x.data<T>();
    T* o = out->data<T>();
    ctx->thread_pool()->ParallelFor(x.NumElements(), 2, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T gi = g[i];  // loaded unconditionally, so the select needs no branch
        o[i] = f[i] > T(0) ? gi : T(0);
      }
    });
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("Relu", kCpu, "T", UnaryKernel<ReluF>::Op, float, double, int32_t,
                          int64_t);
REGISTER_KERNEL_FOR_TYPES("ReluGrad", kCpu, "T", ReluGradOp, float, double, int32_t, int64_t);
REGISTER_KERNEL_FOR_TYPES("Relu6", kCpu, "T", UnaryKernel<Relu6F>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Elu", kCpu, "T", UnaryKernel<EluF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Selu", kCpu, "T", UnaryKernel<SeluF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("LeakyRelu", kCpu, "T", UnaryKernel<LeakyReluF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Softplus", kCpu, "T", UnaryKernel<SoftplusF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Softsign", kCpu, "T", UnaryKernel<SoftsignF>::Op, float, double);

}  // namespace
}  // namespace runnel
