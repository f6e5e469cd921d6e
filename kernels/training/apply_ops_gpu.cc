// The fused optimizer updates on the GPU (float32): the variable and its slots in device
// memory, under their locks (taken in input order, as on the CPU); the learning rate and
// the other scalars are read in host memory.
#include "kernels/util/gpu_ops.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

template <gpu::ApplyRule kRule, int kRefs, int kGrad>
class ApplyGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    if (ctx->HasAttr("use_nesterov")) RETURN_IF_ERROR(ctx->GetAttr("use_nesterov", &nesterov_));
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& grad = ctx->input(kGrad);
    gpu::ApplyArgs args;
    std::unique_lock<std::mutex> locks[kRefs];
    RETURN_IF_ERROR(LockApplyRefs(ctx, kRefs, grad.shape(), locks));
    for (int r = 0; r < kRefs; ++r) {
      RETURN_IF_ERROR(PrepareForInPlaceUpdateOnGpu(ctx->input_ref(r), ctx, gpu->compute));
      args.refs[r] = ctx->input_ref(r).tensor->data<float>();
    }
    RETURN_IF_ERROR(ApplyScalars(ctx, kRefs, kGrad, args.s));
    args.grad = grad.data<float>();
    args.n = grad.NumElements();
    args.nesterov = nesterov_;
    RETURN_IF_ERROR(CudaStatus(gpu::Apply(kRule, args, gpu->compute), "the optimizer GPU kernel"));
    ctx->set_output_ref(0, ctx->input_ref(0));
    return absl::OkStatus();
  }

 private:
  bool nesterov_ = false;
};

// The scalar inputs of each op, read on the host.
void Register(const char* op, std::initializer_list<const char*> scalars, KernelFactory factory) {
  KernelDefBuilder b(op);
  b.Device(kGpu).TypeConstraint<float>("T");
  for (const char* s : scalars) b.HostMemory(s);
  KernelRegistry::Global()->Register(b.def(), factory);
}

using gpu::ApplyRule;
const bool kRegistered = [] {
  Register("ApplyGradientDescent", {"alpha"},
           &MakeKernel<ApplyGpuOp<ApplyRule::kGradientDescent, 1, 2>>);
  Register("ApplyMomentum", {"lr", "momentum"},
           &MakeKernel<ApplyGpuOp<ApplyRule::kMomentum, 2, 3>>);
  Register("ApplyAdagrad", {"lr"}, &MakeKernel<ApplyGpuOp<ApplyRule::kAdagrad, 2, 3>>);
  Register("ApplyRMSProp", {"lr", "rho", "momentum", "epsilon"},
           &MakeKernel<ApplyGpuOp<ApplyRule::kRMSProp, 3, 7>>);
  Register("ApplyCenteredRMSProp", {"lr", "rho", "momentum", "epsilon"},
           &MakeKernel<ApplyGpuOp<ApplyRule::kCenteredRMSProp, 4, 8>>);
  Register("ApplyAdam", {"beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon"},
           &MakeKernel<ApplyGpuOp<ApplyRule::kAdam, 3, 9>>);
  return true;
}();

}  // namespace
}  // namespace runnel
