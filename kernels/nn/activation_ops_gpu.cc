// Relu and Relu6 and their gradients on the GPU (float32), tested against the CPU
// kernels in tests/gpu/.
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

template <bool kRelu6>
class ReluGradGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& dy = ctx->input(0);
    const Tensor& x = ctx->input(1);
    RN_REQUIRE(dy.shape() == x.shape(), "gradients ", dy.shape().DebugString(), " and features ",
               x.shape().DebugString(), " differ in shape");
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &out));
    return CudaStatus(gpu::ReluGrad(dy.data<float>(), x.data<float>(), out->data<float>(),
                                    x.NumElements(), kRelu6, gpu->compute),
                      "the ReluGrad GPU kernel");
  }
};

REGISTER_GPU_FLOAT("Relu", UnaryGpuOp<gpu::UnaryOp::kRelu>);
REGISTER_GPU_FLOAT("Relu6", UnaryGpuOp<gpu::UnaryOp::kRelu6>);
REGISTER_GPU_FLOAT("ReluGrad", ReluGradGpuOp<false>);
REGISTER_GPU_FLOAT("Relu6Grad", ReluGradGpuOp<true>);

}  // namespace
}  // namespace runnel
