// Fill, ZerosLike and OnesLike on the GPU (dtypes kept in device memory; Fill's dims and
// value in host memory).
#include <cstring>

#include "kernels/util/gpu_ops.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

absl::Status FillWith(OpKernelContext* ctx, Tensor* out, const void* value) {
  ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
  return CudaStatus(gpu::Fill(out->raw_data(), value, DataTypeSize(out->dtype()),
                              out->NumElements(), gpu->compute),
                    "the fill GPU kernel");
}

class FillGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& value = ctx->input(1);
    RN_REQUIRE(ctx->input(0).dims() == 1, "dims must be a vector, got shape ",
               ctx->input(0).shape().DebugString());
    RN_REQUIRE(value.dims() == 0, "value must be a scalar, got shape ",
               value.shape().DebugString());
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(ctx->input(0), "dims"));
    TensorShape shape;
    for (int64_t d : dims) {
      RN_REQUIRE(d >= 0, "dims must be non-negative, got ", d);
      shape.AddDim(d);
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    return FillWith(ctx, out, value.raw_data());
  }
};

// 0 or 1 in the tensor's dtype, as bytes.
uint64_t One(DataType dtype) {
  switch (dtype) {
    case DT_FLOAT: {
      const float one = 1;
      uint32_t bits;
      std::memcpy(&bits, &one, 4);
      return bits;
    }
    case DT_DOUBLE: {
      const double one = 1;
      uint64_t bits;
      std::memcpy(&bits, &one, 8);
      return bits;
    }
    case DT_HALF:
      return 0x3C00;
    case DT_BFLOAT16:
      return 0x3F80;
    default:
      return 1;  // integers and bool
  }
}

template <int kValue>
class ConstantLikeGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, ctx->input(0).shape(), &out));
    const uint64_t bits = kValue == 0 ? 0 : One(out->dtype());
    // The low bytes of `bits` are the element on a little-endian machine.
    return FillWith(ctx, out, &bits);
  }
};

REGISTER_KERNEL(KernelDefBuilder("Fill")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("dims")
                    .HostMemory("value"),
                FillGpuOp);
REGISTER_KERNEL(KernelDefBuilder("ZerosLike").Device(kGpu).TypeConstraint("T", kGpuMemoryTypes),
                ConstantLikeGpuOp<0>);
REGISTER_KERNEL(KernelDefBuilder("OnesLike").Device(kGpu).TypeConstraint("T", kGpuMemoryTypes),
                ConstantLikeGpuOp<1>);

}  // namespace
}  // namespace runnel
