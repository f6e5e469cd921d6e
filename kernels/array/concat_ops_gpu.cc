// ConcatV2 on the GPU: each input, seen as [outer, width_i], copied beside the others into
// the output [outer, sum of widths] by one strided device-to-device copy (axis in host
// memory).
#include "kernels/util/gpu_ops.h"
#include "kernels/util/int_values.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

class ConcatV2GpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const int n = ctx->num_inputs() - 1;
    std::vector<const Tensor*> inputs;
    for (int i = 0; i < n; ++i) inputs.push_back(&ctx->input(i));
    ASSIGN_OR_RETURN(int64_t axis_value, IntScalar(ctx->input(n), "axis"));
    int axis;
    ASSIGN_OR_RETURN(TensorShape shape, ConcatShape(inputs, axis_value, &axis));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    int64_t outer = 1;
    for (int d = 0; d < axis; ++d) outer *= shape.dim_size(d);
    const size_t size = DataTypeSize(out->dtype());
    const size_t pitch = out->NumElements() / outer * size;
    char* dst = static_cast<char*>(out->raw_data());
    for (const Tensor* t : inputs) {
      const size_t width = t->NumElements() / outer * size;
      if (width == 0) continue;
      RN_CUDA(cudaMemcpy2DAsync(dst, pitch, t->raw_data(), width, width, outer,
                                cudaMemcpyDeviceToDevice, gpu->compute));
      dst += width;
    }
    return absl::OkStatus();
  }
};

REGISTER_KERNEL(KernelDefBuilder("ConcatV2")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("axis"),
                ConcatV2GpuOp);

}  // namespace
}  // namespace runnel
