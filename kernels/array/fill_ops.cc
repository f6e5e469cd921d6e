// Kernels that make tensors from scalars: Fill, ZerosLike, OnesLike, OneHot.
#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

template <typename T>
void FillWith(Tensor* t, T value) {
  T* p = t->data<T>();
  std::fill(p, p + t->NumElements(), value);
}

absl::Status FillValue(const Tensor& value, Tensor* out) {
  bool ok = VisitDataType(out->dtype(), [&](auto zero) {
    using T = decltype(zero);
    FillWith<T>(out, value.scalar<T>());
  });
  RN_REQUIRE(ok, "cannot fill a tensor of dtype ", DataTypeString(out->dtype()));
  return absl::OkStatus();
}

class FillOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& dims_t = ctx->input(0);
    const Tensor& value = ctx->input(1);
    RN_REQUIRE(dims_t.dims() == 1, "dims must be a vector, got shape ",
               dims_t.shape().DebugString());
    RN_REQUIRE(value.dims() == 0, "value must be a scalar, got shape ",
               value.shape().DebugString());
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(dims_t, "dims"));
    ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromDims(dims));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    return FillValue(value, out);
  }
};

template <int kValue>
class ConstantLikeOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, ctx->input(0).shape(), &out));
    bool ok = VisitDataType(out->dtype(), [&](auto zero) {
      using T = decltype(zero);
      FillWith<T>(out, static_cast<T>(kValue));
    });
    RN_REQUIRE(ok, "unsupported dtype ", DataTypeString(out->dtype()));
    return absl::OkStatus();
  }
};

template <typename TI>
class OneHotOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return ctx->GetAttr("axis", &axis_); }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& indices = ctx->input(0);
    ASSIGN_OR_RETURN(int64_t depth, IntScalar(ctx->input(1), "depth"));
    RN_REQUIRE(depth >= 0, "depth must be non-negative, got ", depth);
    RN_REQUIRE(ctx->input(2).dims() == 0 && ctx->input(3).dims() == 0,
               "on_value and off_value must be scalars");
    RN_REQUIRE(axis_ >= -1 && axis_ <= indices.dims(), "axis ", axis_,
               " is out of range for indices of rank ", indices.dims());
    const int axis = axis_ == -1 ? indices.dims() : static_cast<int>(axis_);
    TensorShape shape = indices.shape();
    shape.InsertDim(axis, depth);
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    RETURN_IF_ERROR(FillValue(ctx->input(3), out));
    int64_t outer = 1, inner = 1;
    for (int d = 0; d < axis; ++d) outer *= indices.dim_size(d);
    for (int d = axis; d < indices.dims(); ++d) inner *= indices.dim_size(d);
    const TI* idx = indices.data<TI>();
    const int elem = DataTypeSize(out->dtype());
    char* o = static_cast<char*>(out->raw_data());
    const char* on = static_cast<const char*>(ctx->input(2).raw_data());
    // Out-of-range indices (including negative ones) leave the row at off_value.
    for (int64_t a = 0; a < outer; ++a) {
      for (int64_t b = 0; b < inner; ++b) {
        int64_t k = static_cast<int64_t>(idx[a * inner + b]);
        if (k >= 0 && k < depth) std::memcpy(o + ((a * depth + k) * inner + b) * elem, on, elem);
      }
    }
    return absl::OkStatus();
  }

 private:
  int64_t axis_ = -1;
};

REGISTER_KERNEL(KernelDefBuilder("Fill").Device(kCpu), FillOp);
REGISTER_KERNEL(KernelDefBuilder("ZerosLike").Device(kCpu), ConstantLikeOp<0>);
REGISTER_KERNEL(KernelDefBuilder("OnesLike").Device(kCpu), ConstantLikeOp<1>);
REGISTER_KERNEL_FOR_TYPES("OneHot", kCpu, "TI", OneHotOp, uint8_t, int32_t, int64_t);

}  // namespace
}  // namespace runnel
