// Tile and Pad(V2): both fill a larger output from the input with strided copies.
#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"
#include "kernels/util/strided_copy.h"

namespace runnel {
namespace {

class TileOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> multiples, IntValues(ctx->input(1), "multiples"));
    RN_REQUIRE(static_cast<int>(multiples.size()) == x.dims(), "multiples has ", multiples.size(),
               " entries for an input of rank ", x.dims());
    TensorShape shape;
    for (int d = 0; d < x.dims(); ++d) {
      RN_REQUIRE(multiples[d] >= 0, "multiples must be non-negative, got ", multiples[d]);
      shape.AddDim(x.dim_size(d) * multiples[d]);
    }
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
      dims.push_back(multiples[d]);
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
    const Tensor& paddings = ctx->input(1);
    RN_REQUIRE(
        paddings.dims() == 2 && paddings.dim_size(0) == x.dims() && paddings.dim_size(1) == 2,
        "paddings must have shape [", x.dims(), ",2], got ", paddings.shape().DebugString());
    ASSIGN_OR_RETURN(std::vector<int64_t> pads, IntValues(paddings, "paddings"));
    TensorShape shape;
    for (int d = 0; d < x.dims(); ++d) {
      RN_REQUIRE(pads[2 * d] >= 0 && pads[2 * d + 1] >= 0, "paddings must be non-negative, got ",
                 pads[2 * d], " and ", pads[2 * d + 1], " for dim ", d);
      shape.AddDim(x.dim_size(d) + pads[2 * d] + pads[2 * d + 1]);
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
    for (int d = 0; d < x.dims(); ++d) o += pads[2 * d] * out_strides[d];
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
