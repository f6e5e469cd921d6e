// Assign, AssignAdd and AssignSub on a GPU variable: the value is written into its device
// buffer on the compute stream (VariableV2 itself is device-neutral: variable_ops.cc).
#include "kernels/util/gpu_ops.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

class AssignGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("validate_shape", &validate_shape_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const TensorRef& ref = ctx->input_ref(0);
    const Tensor& value = ctx->input(1);
    {
      std::lock_guard<std::mutex> lock(*ref.mu);
      Tensor& var = *ref.tensor;
      RETURN_IF_ERROR(CheckAssign(var, value, validate_shape_, *ref.name));
      if (var.IsInitialized() && var.shape() == value.shape() && var.RefCountIsOne()) {
        RETURN_IF_ERROR(
            CudaStatus(cudaMemcpyAsync(var.raw_data(), value.raw_data(), value.TotalBytes(),
                                       cudaMemcpyDeviceToDevice, gpu->compute),
                       "cudaMemcpyAsync"));
      } else {
        ASSIGN_OR_RETURN(var, CopyOnGpu(value, ctx, gpu->compute));  // never alias the value
      }
    }
    ctx->set_output_ref(0, ref);
    return absl::OkStatus();
  }

 private:
  bool validate_shape_ = true;
};

template <gpu::BinaryOp kOp>
class AssignUpdateGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const TensorRef& ref = ctx->input_ref(0);
    const Tensor& value = ctx->input(1);
    {
      std::lock_guard<std::mutex> lock(*ref.mu);
      Tensor& var = *ref.tensor;
      if (!var.IsInitialized()) return UninitializedError(ref);
      RN_REQUIRE(var.shape() == value.shape(),
                 kOp == gpu::BinaryOp::kAdd ? "AssignAdd" : "AssignSub", " to ", *ref.name,
                 ": the variable has shape ", var.shape().DebugString(), " but the value has ",
                 value.shape().DebugString());
      RETURN_IF_ERROR(PrepareForInPlaceUpdateOnGpu(ref, ctx, gpu->compute));
      const gpu::Broadcast same = SameShape(var.NumElements());
      RETURN_IF_ERROR(CudaStatus(gpu::Binary(kOp, same, var.data<float>(), value.data<float>(),
                                             var.data<float>(), var.NumElements(), gpu->compute),
                                 "the AssignAdd/AssignSub GPU kernel"));
    }
    ctx->set_output_ref(0, ref);
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

REGISTER_KERNEL(KernelDefBuilder("Assign").Device(kGpu).TypeConstraint("T", kGpuMemoryTypes),
                AssignGpuOp);
REGISTER_GPU_FLOAT("AssignAdd", AssignUpdateGpuOp<gpu::BinaryOp::kAdd>);
REGISTER_GPU_FLOAT("AssignSub", AssignUpdateGpuOp<gpu::BinaryOp::kSub>);

}  // namespace
}  // namespace runnel
