// Kernels about shapes: Shape, ShapeN, Size, Rank, and the reshaping family (Reshape,
// ExpandDims, Squeeze), which share the input's buffer.
#include "absl/strings/str_join.h"
#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

Tensor ShapeTensor(const TensorShape& shape, DataType dtype) {
  Tensor t(dtype, TensorShape{shape.dims()});
  for (int i = 0; i < shape.dims(); ++i) {
    if (dtype == DT_INT32)
      t.data<int32_t>()[i] = static_cast<int32_t>(shape.dim_size(i));
    else
      t.data<int64_t>()[i] = shape.dim_size(i);
  }
  return t;
}

class ShapeOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    for (int i = 0; i < ctx->num_inputs(); ++i) {
      ctx->set_output(i, ShapeTensor(ctx->input(i).shape(), ctx->output_type(i)));
    }
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class SizeOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    int64_t n = ctx->input(0).NumElements();
    ctx->set_output(0, ctx->output_type(0) == DT_INT32 ? Tensor::Scalar<int32_t>(n)
                                                       : Tensor::Scalar<int64_t>(n));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class RankOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ctx->set_output(0, Tensor::Scalar<int32_t>(ctx->input(0).dims()));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class ReshapeOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& shape_t = ctx->input(1);
    RN_REQUIRE(shape_t.dims() == 1, "shape must be a vector, got shape ",
               shape_t.shape().DebugString());
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(shape_t, "shape"));
    int unknown = -1;
    int64_t product = 1;
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] == -1) {
        RN_REQUIRE(unknown < 0, "only one dimension of shape can be -1, got [",
                   absl::StrJoin(dims, ","), "]");
        unknown = static_cast<int>(i);
      } else {
        RN_REQUIRE(dims[i] >= 0, "shape has a negative dimension: [", absl::StrJoin(dims, ","),
                   "]");
        product *= dims[i];
      }
    }
    if (unknown >= 0) {
      RN_REQUIRE(product > 0 && x.NumElements() % product == 0, "cannot reshape a tensor with ",
                 x.NumElements(), " elements to shape [", absl::StrJoin(dims, ","), "]");
      dims[unknown] = x.NumElements() / product;
    }
    TensorShape shape(dims);
    RN_REQUIRE(shape.num_elements() == x.NumElements(), "cannot reshape a tensor with ",
               x.NumElements(), " elements (shape ", x.shape().DebugString(), ") to shape ",
               shape.DebugString(), " (", shape.num_elements(), " elements)");
    ASSIGN_OR_RETURN(Tensor out, x.Reshaped(shape));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class ExpandDimsOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(int64_t axis, IntScalar(ctx->input(1), "dim"));
    RN_REQUIRE(axis >= -x.dims() - 1 && axis <= x.dims(), "dim ", axis,
               " is out of range for an input of rank ", x.dims());
    if (axis < 0) axis += x.dims() + 1;
    TensorShape shape = x.shape();
    shape.InsertDim(static_cast<int>(axis), 1);
    ASSIGN_OR_RETURN(Tensor out, x.Reshaped(shape));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class SqueezeOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("squeeze_dims", &dims_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    std::vector<bool> drop(x.dims(), dims_.empty());
    for (int64_t d : dims_) {
      RN_REQUIRE(d >= -x.dims() && d < x.dims(), "squeeze dim ", d, " is out of range for shape ",
                 x.shape().DebugString());
      int a = static_cast<int>(d < 0 ? d + x.dims() : d);
      RN_REQUIRE(x.dim_size(a) == 1, "cannot squeeze dim ", d, " of shape ",
                 x.shape().DebugString(), ": its size is not 1");
      drop[a] = true;
    }
    TensorShape shape;
    for (int i = 0; i < x.dims(); ++i) {
      if (!(drop[i] && x.dim_size(i) == 1)) shape.AddDim(x.dim_size(i));
    }
    ASSIGN_OR_RETURN(Tensor out, x.Reshaped(shape));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  std::vector<int64_t> dims_;
};

REGISTER_KERNEL(KernelDefBuilder("Shape").Device(kCpu).AllowStrings(), ShapeOp);
REGISTER_KERNEL(KernelDefBuilder("ShapeN").Device(kCpu).AllowStrings(), ShapeOp);
REGISTER_KERNEL(KernelDefBuilder("Size").Device(kCpu).AllowStrings(), SizeOp);
REGISTER_KERNEL(KernelDefBuilder("Rank").Device(kCpu).AllowStrings(), RankOp);
REGISTER_KERNEL(KernelDefBuilder("Reshape").Device(kCpu).AllowStrings(), ReshapeOp);
REGISTER_KERNEL(KernelDefBuilder("ExpandDims").Device(kCpu).AllowStrings(), ExpandDimsOp);
REGISTER_KERNEL(KernelDefBuilder("Squeeze").Device(kCpu).AllowStrings(), SqueezeOp);

// On a GPU these read shapes and share buffers; shapes and dims are in host memory.
const bool kGpuRegistered =
    RegisterForGpu("Shape", "T", {"output"}, {"input"}, &MakeKernel<ShapeOp>) &&
    RegisterForGpu("ShapeN", "T", {"output"}, {"input"}, &MakeKernel<ShapeOp>) &&
    RegisterForGpu("Size", "T", {"output"}, {"input"}, &MakeKernel<SizeOp>) &&
    RegisterForGpu("Rank", "T", {"output"}, {"input"}, &MakeKernel<RankOp>) &&
    RegisterForGpu("Reshape", "T", {"shape"}, {"tensor", "output"}, &MakeKernel<ReshapeOp>) &&
    RegisterForGpu("ExpandDims", "T", {"dim"}, {"input", "output"}, &MakeKernel<ExpandDimsOp>) &&
    RegisterForGpu("Squeeze", "T", {}, {"input", "output"}, &MakeKernel<SqueezeOp>);

}  // namespace
}  // namespace runnel
