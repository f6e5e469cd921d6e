// Softmax and LogSoftmax over the last dim on the GPU (float32).
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

template <bool kLog>
class SoftmaxGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    RN_REQUIRE(x.dims() >= 1, "logits must have rank >= 1, got a scalar");
    const int64_t classes = x.dim_size(x.dims() - 1);
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &out));
    if (classes == 0) return absl::OkStatus();
    return CudaStatus(gpu::Softmax(x.data<float>(), out->data<float>(), x.NumElements() / classes,
                                   classes, kLog, gpu->compute),
                      "the softmax GPU kernel");
  }
};

REGISTER_GPU_FLOAT("Softmax", SoftmaxGpuOp<false>);
REGISTER_GPU_FLOAT("LogSoftmax", SoftmaxGpuOp<true>);

}  // namespace
}  // namespace runnel
