// AddN on the GPU (float32): the first two inputs added, then each other one added in
// place (the gradient of a tensor read in several places is their AddN).
#include "kernels/util/gpu_ops.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

class AddNGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    RETURN_IF_ERROR(CheckAddN(ctx));
    const Tensor& first = ctx->input(0);
    if (ctx->num_inputs() == 1) {
      ctx->set_output(0, first);
      return absl::OkStatus();
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, first.shape(), &out));
    const gpu::Broadcast same = SameShape(first.NumElements());
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      const float* sum = i == 1 ? first.data<float>() : out->data<float>();
      RETURN_IF_ERROR(
          CudaStatus(gpu::Binary(gpu::BinaryOp::kAdd, same, sum, ctx->input(i).data<float>(),
                                 out->data<float>(), first.NumElements(), gpu->compute),
                     "the AddN GPU kernel"));
    }
    return absl::OkStatus();
  }
};

REGISTER_GPU_FLOAT("AddN", AddNGpuOp);

}  // namespace
}  // namespace runnel
