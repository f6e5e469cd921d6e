// What the GPU kernels of several families share (GPU code only): the float32 kernel
// registration and the kernel of a unary elementwise function.
#pragma once

#include "core/gpu/gpu_context.h"
#include "core/kernel_registry.h"
#include "kernels/util/gpu_kernels.h"

#define REGISTER_GPU_FLOAT(op, kernel) \
  REGISTER_KERNEL(KernelDefBuilder(op).Device(kGpu).TypeConstraint<float>("T"), kernel)

namespace runnel {

template <gpu::UnaryOp kOp>
class UnaryGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &out));
    return CudaStatus(
        gpu::Unary(kOp, x.data<float>(), out->data<float>(), x.NumElements(), gpu->compute),
        "the unary GPU kernel");
  }
};

}  // namespace runnel
