// Transpose and Tile on the GPU: one gather from the input (any dtype kept in device
// memory; perm and multiples in host memory).
#include "absl/strings/str_join.h"
#include "kernels/util/gpu_ops.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

absl::StatusOr<gpu::IndexMap> MapOf(const TensorShape& out, const TensorShape& in,
                                    const std::vector<int64_t>& source_dim) {
  RN_REQUIRE(out.dims() <= gpu::kMaxBroadcastDims, "rank ", out.dims(),
             " is more than the GPU kernel's ", gpu::kMaxBroadcastDims);
  gpu::IndexMap map;
  map.rank = out.dims();
  std::vector<int64_t> strides(in.dims(), 1);
  for (int d = in.dims() - 2; d >= 0; --d) strides[d] = strides[d + 1] * in.dim_size(d + 1);
  for (int d = 0; d < out.dims(); ++d) {
    map.dims[d] = out.dim_size(d);
    map.in_dims[d] = in.dim_size(static_cast<int>(source_dim[d]));
    map.in_strides[d] = strides[source_dim[d]];
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
    ASSIGN_OR_RETURN(std::vector<int64_t> perm, IntValues(ctx->input(1), "perm"));
    RN_REQUIRE(static_cast<int>(perm.size()) == x.dims(), "perm has ", perm.size(),
               " entries for an input of rank ", x.dims());
    std::vector<bool> seen(x.dims(), false);
    TensorShape out_shape;
    for (int64_t p : perm) {
      RN_REQUIRE(p >= 0 && p < x.dims() && !seen[p], "perm [", absl::StrJoin(perm, ","),
                 "] is not a permutation of the input's ", x.dims(), " dims");
      seen[p] = true;
      out_shape.AddDim(x.dim_size(static_cast<int>(p)));
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, out_shape, &out));
    ASSIGN_OR_RETURN(gpu::IndexMap map, MapOf(out_shape, x.shape(), perm));
    return Launch(ctx, map, x, out);
  }
};

class TileGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> multiples, IntValues(ctx->input(1), "multiples"));
    RN_REQUIRE(static_cast<int>(multiples.size()) == x.dims(), "multiples has ", multiples.size(),
               " entries for an input of rank ", x.dims());
    TensorShape shape;
    std::vector<int64_t> same(x.dims());
    for (int d = 0; d < x.dims(); ++d) {
      RN_REQUIRE(multiples[d] >= 0, "multiples must be non-negative, got ", multiples[d]);
      shape.AddDim(x.dim_size(d) * multiples[d]);
      same[d] = d;
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    ASSIGN_OR_RETURN(gpu::IndexMap map, MapOf(shape, x.shape(), same));
    return Launch(ctx, map, x, out);
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

}  // namespace
}  // namespace runnel
