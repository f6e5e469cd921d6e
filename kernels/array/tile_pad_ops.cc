// Tile and Pad(V2): both fill a larger output from the input with strided copies.
#include "core/kernel_registry.h"
#include "kernels/util/kernel_args.h"
#include "kernels/util/strided_copy.h"

namespace runnel {
namespace {

class TileOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(TensorShape shape, TiledShape(x.shape(), ctx->input(1)));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    // View the output as [m0, d0, m1, d1, ...]: the input repeats with stride 0 over each m.
    const int elem = DataTypeSize(x.dtype());
    DimVector in_dims = DimsOf(x.shape());
    DimVector in_strides = DenseStrides(in_dims, elem);
    DimVector out_strides = DenseStrides(DimsOf(shape), elem);
    DimVector dims, src_strides, dst_strides;
    for (int d = 0; d < x.dims(); ++d) {
      dims.push_back(shape.dim_size(d) / x.dim_size(d));  // the multiple (no dim is 0 here)
      src_strides.push_back(0);
      dst_strides.push_back(out_strides[d] * x.dim_size(d));
      dims.push_back(x.dim_size(d));
      src_strides.push_back(in_strides[d]);
      dst_strides.push_back(out_strides[d]);
    }
    StridedCopy(elem, dims, static_cast<const char*>(x.raw_data()), src_strides,
                static_cast<char*>(out->raw_data()), dst_strides, ctx->thread_pool());
    return absl::OkStatus();
  }
};

class PadOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(Padding pads, PadAmounts(x.shape(), ctx->input(1)));
    TensorShape shape;
    for (int d = 0; d < x.dims(); ++d) {
      shape.AddDim(x.dim_size(d) + pads.before[d] + pads.after[d]);
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    const int elem = DataTypeSize(x.dtype());
    // Fill with the pad value, then copy the input into the interior.
    const char* value = nullptr;
    if (ctx->num_inputs() > 2) {
      RN_REQUIRE(ctx->input(2).dims() == 0, "constant_values must be a scalar");
      value = static_cast<const char*>(ctx->input(2).raw_data());
    }
    char* o = static_cast<char*>(out->raw_data());
    if (value == nullptr) {
      std::memset(o, 0, out->TotalBytes());
    } else {
      for (int64_t i = 0; i < out->NumElements(); ++i) std::memcpy(o + i * elem, value, elem);
    }
    if (x.NumElements() == 0) return absl::OkStatus();
    DimVector out_dims = DimsOf(shape);
    DimVector out_strides = DenseStrides(out_dims, elem);
    DimVector in_dims = DimsOf(x.shape());
    for (int d = 0; d < x.dims(); ++d) o += pads.before[d] * out_strides[d];
    StridedCopy(elem, in_dims, static_cast<const char*>(x.raw_data()), DenseStrides(in_dims, elem),
                o, out_strides, ctx->thread_pool());
    return absl::OkStatus();
  }
};

REGISTER_KERNEL(KernelDefBuilder("Tile").Device(kCpu), TileOp);
REGISTER_KERNEL(KernelDefBuilder("Pad").Device(kCpu), PadOp);
REGISTER_KERNEL(KernelDefBuilder("PadV2").Device(kCpu), PadOp);

}  // namespace
}  // namespace runnel
