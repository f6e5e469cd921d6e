// AddN: the sum of N tensors of one shape.
#include "core/kernel_registry.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

template <typename T>
class AddNOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& first = ctx->input(0);
    RETURN_IF_ERROR(CheckAddN(ctx));
    Tensor* out;
    std::initializer_list<int> candidates = {0};
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output(candidates, 0, first.shape(), &out));
    T* o = out->data<T>();
    const int n = ctx->num_inputs();
    ctx->thread_pool()->ParallelFor(first.NumElements(), n * 2, [&](int64_t b, int64_t e) {
      const T* p0 = ctx->input(0).data<T>();
      for (int64_t j = b; j < e; ++j) o[j] = p0[j];
      for (int i = 1; i < n; ++i) {
        const T* p = ctx->input(i).data<T>();
        for (int64_t j = b; j < e; ++j) o[j] += p[j];
      }
    });
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("AddN", kCpu, "T", AddNOp, float, double, int32_t, int64_t, uint8_t,
                          int16_t, int8_t);

}  // namespace
}  // namespace runnel
