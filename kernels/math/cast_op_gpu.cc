// Cast between float, double, int64, bool, half and bfloat16 on the GPU (int32 stays on the host,
// where the CPU kernel casts it).
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

gpu::Scalar ScalarOf(DataType dtype) {
  switch (dtype) {
    case DT_DOUBLE:
      return gpu::Scalar::kDouble;
    case DT_INT64:
      return gpu::Scalar::kInt64;
    case DT_BOOL:
      return gpu::Scalar::kBool;
    case DT_HALF:
      return gpu::Scalar::kHalf;
    case DT_BFLOAT16:
      return gpu::Scalar::kBFloat16;
    default:
      return gpu::Scalar::kFloat;
  }
}

class CastGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    const DataType to = ctx->output_type(0);
    if (x.dtype() == to) {
      ctx->set_output(0, x);
      return absl::OkStatus();
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &out));
    return CudaStatus(gpu::Cast(ScalarOf(x.dtype()), ScalarOf(to), x.raw_data(), out->raw_data(),
                                x.NumElements(), gpu->compute),
                      "the Cast GPU kernel");
  }
};

const std::vector<DataType> kCastTypes = {DT_FLOAT, DT_DOUBLE, DT_INT64,
                                          DT_BOOL,  DT_HALF,   DT_BFLOAT16};
REGISTER_KERNEL(KernelDefBuilder("Cast")
                    .Device(kGpu)
                    .TypeConstraint("SrcT", kCastTypes)
                    .TypeConstraint("DstT", kCastTypes),
                CastGpuOp);

}  // namespace
}  // namespace runnel
