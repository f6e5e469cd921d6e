// Transpose, Tile and Pad on the GPU: one gather from the input (any dtype kept in device
// memory; perm, multiples, paddings and the pad value in host memory).
#include "kernels/util/gpu_ops.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

// Output index k reads the input at k % the input's dims.
absl::StatusOr<gpu::IndexMap> TileMap(const TensorShape& out, const TensorShape& in) {
  RETURN_IF_ERROR(CheckGpuRank(out.dims()));
  gpu::IndexMap map;
  map.rank = out.dims();
  const DimVector strides = DenseStrides(DimsOf(in), 1);
  for (int d = 0; d < out.dims(); ++d) {
    map.dims[d] = out.dim_size(d);
    map.in_dims[d] = in.dim_size(d);
    map.in_strides[d] = strides[d];
  }
  return map;
}

absl::Status Launch(OpKernelContext* ctx, const gpu::IndexMap& map, const Tensor& in, Tensor* out) {
  ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
  return CudaStatus(gpu::Gather(map, in.raw_data(), out->raw_data(), DataTypeSize(in.dtype()),
                                out->NumElements(), gpu->compute),
                    "the gather GPU kernel");
}

class TransposeGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> perm, Permutation(ctx->input(1), x.dims()));
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    ASSIGN_OR_RETURN(Tensor out, TransposeOnGpu(x, perm, ctx, gpu->compute));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
};

class TileGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(TensorShape shape, TiledShape(x.shape(), ctx->input(1)));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    ASSIGN_OR_RETURN(gpu::IndexMap map, TileMap(shape, x.shape()));
    return Launch(ctx, map, x, out);
  }
};

class PadGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(Padding pads, PadAmounts(x.shape(), ctx->input(1)));
    const void* value = nullptr;
    if (ctx->num_inputs() > 2) {
      RN_REQUIRE(ctx->input(2).dims() == 0, "constant_values must be a scalar");
      value = ctx->input(2).raw_data();
    }
    ASSIGN_OR_RETURN(Tensor out, PadOnGpu(x, pads.before, pads.after, value, ctx, gpu->compute));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
};

REGISTER_KERNEL(KernelDefBuilder("Transpose")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("perm"),
                TransposeGpuOp);
REGISTER_KERNEL(KernelDefBuilder("Tile")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("multiples"),
                TileGpuOp);
REGISTER_KERNEL(KernelDefBuilder("Pad")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("paddings"),
                PadGpuOp);
REGISTER_KERNEL(KernelDefBuilder("PadV2")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("paddings")
                    .HostMemory("constant_values"),
                PadGpuOp);

}  // namespace
}  // namespace runnel
