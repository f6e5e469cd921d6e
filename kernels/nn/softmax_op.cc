// Softmax and LogSoftmax over the last dim, stable for large logits (the row max is
// subtracted first).
#include "Eigen/Core"
#include "core/kernel_registry.h"

namespace runnel {
namespace {

template <typename T, bool kLog>
class SoftmaxOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    RN_REQUIRE(x.dims() >= 1, "logits must have rank >= 1, got a scalar");
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &out));
    const int64_t depth = x.dim_size(x.dims() - 1);
    if (x.NumElements() == 0) return absl::OkStatus();
    const int64_t rows = x.NumElements() / depth;
    const T* in = x.data<T>();
    T* o = out->data<T>();
    using Row = Eigen::Array<T, Eigen::Dynamic, 1>;
    ctx->thread_pool()->ParallelFor(rows, depth * 20, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r) {
        Eigen::Map<const Row> xr(in + r * depth, depth);
        Eigen::Map<Row> yr(o + r * depth, depth);
        const T max = xr.maxCoeff();
        yr = xr - max;
        if constexpr (kLog) {
          const T log_sum = std::log(yr.exp().sum());
          yr -= log_sum;
        } else {
          yr = yr.exp();
          yr /= yr.sum();
        }
      }
    });
    return absl::OkStatus();
  }
};

template <typename T>
using Softmax = SoftmaxOp<T, false>;
template <typename T>
using LogSoftmax = SoftmaxOp<T, true>;
REGISTER_KERNEL_FOR_TYPES("Softmax", kCpu, "T", Softmax, float, double);
REGISTER_KERNEL_FOR_TYPES("LogSoftmax", kCpu, "T", LogSoftmax, float, double);

}  // namespace
}  // namespace runnel
