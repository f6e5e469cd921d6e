// What the GPU kernels of several families share (GPU code only): the float32 kernel
// registration and the kernel of a unary elementwise function.
#pragma once

#include "core/gpu/gpu_context.h"
#include "core/kernel_registry.h"
#include "kernels/util/gpu_kernels.h"

#define REGISTER_GPU_FLOAT(op, kernel) \
  REGISTER_KERNEL(KernelDefBuilder(op).Device(kGpu).TypeConstraint<float>("T"), kernel)

namespace runnel {

// A copy of `t` in the kernel's device memory, queued on the compute stream.
inline absl::StatusOr<Tensor> CopyOnGpu(const Tensor& t, OpKernelContext* ctx,
                                        cudaStream_t stream) {
  Tensor copy(t.dtype(), t.shape(), ctx->allocator());
  RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(copy.raw_data(), t.raw_data(), t.TotalBytes(),
                                             cudaMemcpyDeviceToDevice, stream),
                             "cudaMemcpyAsync"));
  return copy;
}

// PrepareForInPlaceUpdate for a variable in device memory: when readers still hold its
// buffer, the variable moves to a private copy (call with its mutex held).
inline absl::Status PrepareForInPlaceUpdateOnGpu(const TensorRef& ref, OpKernelContext* ctx,
                                                 cudaStream_t stream) {
  if (ref.tensor->IsInitialized() && !ref.tensor->RefCountIsOne()) {
    ASSIGN_OR_RETURN(*ref.tensor, CopyOnGpu(*ref.tensor, ctx, stream));
  }
  return absl::OkStatus();
}

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
