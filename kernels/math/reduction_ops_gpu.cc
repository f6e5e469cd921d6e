// Sum, Mean, Prod, Max and Min over axes on the GPU (float32): the CPU kernels' plan
// (kernels/util/reduction.h), one folding pass per reduced group, innermost first.
#include "kernels/util/gpu_ops.h"
#include "kernels/util/reduction.h"

namespace runnel {
namespace {

template <gpu::ReduceOp kOp, bool kMean = false>
class ReductionGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("keep_dims", &keep_dims_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(ReductionPlan plan, MakeReductionPlan(x.shape(), ctx->input(1), keep_dims_));
    if (plan.passes == 0) {  // only size-1 axes: the input, reshaped
      ASSIGN_OR_RETURN(Tensor same, x.Reshaped(plan.out_shape));
      ctx->set_output(0, std::move(same));
      return absl::OkStatus();
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, plan.out_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    auto& groups = plan.groups;
    Tensor current = x;
    for (int gi = static_cast<int>(groups.size()) - 1; gi >= 0 && plan.passes > 0; --gi) {
      if (!groups[gi].second) continue;
      int64_t inner = 1, outer = 1;
      for (size_t k = gi + 1; k < groups.size(); ++k) inner *= groups[k].first;
      for (int k = 0; k < gi; ++k) outer *= groups[k].first;
      Tensor next = --plan.passes == 0
                        ? *out
                        : Tensor(DT_FLOAT, TensorShape{outer * inner}, ctx->allocator());
      RETURN_IF_ERROR(CudaStatus(gpu::Reduce(kOp, current.data<float>(), next.data<float>(), outer,
                                             groups[gi].first, inner, gpu->compute),
                                 "the reduction GPU kernel"));
      current = next;
      groups[gi].first = 1;
    }
    if constexpr (kMean) {
      return CudaStatus(gpu::Scale(out->data<float>(), 1.0f / static_cast<float>(plan.count),
                                   out->NumElements(), gpu->compute),
                        "the Mean GPU kernel");
    }
    return absl::OkStatus();
  }

 private:
  bool keep_dims_ = false;
};

#define REGISTER_GPU_REDUCTION(op, kernel)                                                 \
  REGISTER_KERNEL(KernelDefBuilder(op).Device(kGpu).TypeConstraint<float>("T").HostMemory( \
                      "reduction_indices"),                                                \
                  kernel)

REGISTER_GPU_REDUCTION("Sum", ReductionGpuOp<gpu::ReduceOp::kSum>);
using MeanGpuOp = ReductionGpuOp<gpu::ReduceOp::kSum, true>;
REGISTER_GPU_REDUCTION("Mean", MeanGpuOp);
REGISTER_GPU_REDUCTION("Prod", ReductionGpuOp<gpu::ReduceOp::kProd>);
REGISTER_GPU_REDUCTION("Max", ReductionGpuOp<gpu::ReduceOp::kMax>);
REGISTER_GPU_REDUCTION("Min", ReductionGpuOp<gpu::ReduceOp::kMin>);

}  // namespace
}  // namespace runnel
