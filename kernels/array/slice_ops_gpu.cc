// Slice on the GPU: the window cropped out by one gather (begin and size in host memory).
#include "kernels/util/gpu_ops.h"
#include "kernels/util/int_values.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

class SliceGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> begin, IntValues(ctx->input(1), "begin"));
    ASSIGN_OR_RETURN(DimVector sizes, SliceSizes(x.shape(), begin, ctx->input(2)));
    std::vector<int64_t> before(x.dims()), after(x.dims());
    for (int d = 0; d < x.dims(); ++d) {
      before[d] = -begin[d];
      after[d] = -(x.dim_size(d) - begin[d] - sizes[d]);
    }
    ASSIGN_OR_RETURN(Tensor out, PadOnGpu(x, before, after, nullptr, ctx, gpu->compute));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
};

REGISTER_KERNEL(KernelDefBuilder("Slice")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("begin")
                    .HostMemory("size"),
                SliceGpuOp);

}  // namespace
}  // namespace runnel
