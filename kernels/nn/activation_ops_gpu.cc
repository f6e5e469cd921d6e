// Relu and Relu6 and their gradients on the GPU (float32), tested against the CPU kernels in
// tests/gpu/.
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

// ReluGrad and Relu6Grad(gradients, features): the incoming gradient is input `kGrad`, the
// activation's input the other.
template <gpu::GradOp kOp, int kGrad>
class ActivationGradGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& dy = ctx->input(kGrad);
    const Tensor& value = ctx->input(1 - kGrad);
    RN_REQUIRE(dy.shape() == value.shape(), "the gradient ", dy.shape().DebugString(),
               " and the activation's ", value.shape().DebugString(), " differ in shape");
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({kGrad}, 0, dy.shape(), &out));
    return CudaStatus(gpu::ActivationGrad(kOp, dy.data<float>(), value.data<float>(),
                                          out->data<float>(), dy.NumElements(), gpu->compute),
                      "the activation gradient GPU kernel");
  }
};

REGISTER_GPU_FLOAT("Relu", UnaryGpuOp<gpu::UnaryOp::kRelu>);
REGISTER_GPU_FLOAT("Relu6", UnaryGpuOp<gpu::UnaryOp::kRelu6>);
using ReluGradGpuOp = ActivationGradGpuOp<gpu::GradOp::kRelu, 0>;
using Relu6GradGpuOp = ActivationGradGpuOp<gpu::GradOp::kRelu6, 0>;
REGISTER_GPU_FLOAT("ReluGrad", ReluGradGpuOp);
REGISTER_GPU_FLOAT("Relu6Grad", Relu6GradGpuOp);

}  // namespace
}  // namespace runnel
