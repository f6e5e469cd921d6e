// GatherV2 on the GPU (indices on the device, axis in host memory). An index outside the
// gathered dim gives zeros, as in TensorFlow's GPU kernel: checking would copy the indices
// to the host.
#include "kernels/util/gpu_ops.h"
#include "kernels/util/int_values.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

template <typename Index>
class GatherV2GpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& params = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    ASSIGN_OR_RETURN(int64_t axis, IntScalar(ctx->input(2), "axis"));
    ASSIGN_OR_RETURN(GatherPlan plan, PlanGather(params.shape(), indices.shape(), axis));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, plan.out_shape, &out));
    return CudaStatus(gpu::GatherAxis(params.raw_data(), indices.data<Index>(), out->raw_data(),
                                      DataTypeSize(params.dtype()), plan.outer,
                                      indices.NumElements(), plan.limit, plan.inner, gpu->compute),
                      "the GatherV2 GPU kernel");
  }
};

template <typename Index>
bool Register() {
  KernelRegistry::Global()->Register(KernelDefBuilder("GatherV2")
                                         .Device(kGpu)
                                         .TypeConstraint("Tparams", kGpuMemoryTypes)
                                         .TypeConstraint<Index>("Tindices")
                                         .HostMemory("axis")
                                         .def(),
                                     &MakeKernel<GatherV2GpuOp<Index>>);
  return true;
}
const bool kRegistered = Register<int32_t>() && Register<int64_t>();

}  // namespace
}  // namespace runnel
