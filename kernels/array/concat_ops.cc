// Joining and splitting along an axis: ConcatV2, Pack, Unpack, Split, SplitV. Each
// tensor is viewed as [outer, axis * inner] so every piece is a run of memcpys; splits
// along dim 0 share the input's buffer.
#include <cstring>

#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

absl::StatusOr<int> Axis(int64_t axis, int rank, const char* what) {
  RN_REQUIRE(axis >= -rank && axis < rank, what, " ", axis, " is out of range for rank ", rank);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

// Copies each input, seen as [outer, width_i] bytes, side by side into out [outer, sum].
void ConcatBytes(const std::vector<const Tensor*>& inputs, int64_t outer, Tensor* out,
                 ThreadPool* pool) {
  const int size = DataTypeSize(out->dtype());
  std::vector<int64_t> widths;
  int64_t total = 0;
  for (const Tensor* t : inputs) {
    widths.push_back(outer == 0 ? 0 : t->NumElements() / outer * size);
    total += widths.back();
  }
  char* dst = static_cast<char*>(out->raw_data());
  pool->ParallelFor(outer, total / 8 + 1, [&](int64_t b, int64_t e) {
    for (int64_t o = b; o < e; ++o) {
      char* row = dst + o * total;
      for (size_t i = 0; i < inputs.size(); ++i) {
        if (widths[i] == 0) continue;
        std::memcpy(row, static_cast<const char*>(inputs[i]->raw_data()) + o * widths[i],
                    widths[i]);
        row += widths[i];
      }
    }
  });
}

// Allocates output 0 with `shape` and fills it with `inputs` side by side along `axis`.
absl::Status WriteConcatenation(OpKernelContext* ctx, const std::vector<const Tensor*>& inputs,
                                const TensorShape& shape, int axis) {
  Tensor* out;
  RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
  int64_t outer = 1;
  for (int d = 0; d < axis; ++d) outer *= shape.dim_size(d);
  if (out->NumElements() > 0) ConcatBytes(inputs, outer, out, ctx->thread_pool());
  return absl::OkStatus();
}

class ConcatV2Op : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const int n = ctx->num_inputs() - 1;
    std::vector<const Tensor*> inputs;
    for (int i = 0; i < n; ++i) inputs.push_back(&ctx->input(i));
    ASSIGN_OR_RETURN(int64_t axis_value, IntScalar(ctx->input(n), "axis"));
    int axis;
    ASSIGN_OR_RETURN(TensorShape out_shape, ConcatShape(inputs, axis_value, &axis));
    return WriteConcatenation(ctx, inputs, out_shape, axis);
  }
};

class PackOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return ctx->GetAttr("axis", &axis_); }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& first = ctx->input(0);
    ASSIGN_OR_RETURN(int axis, Axis(axis_, first.dims() + 1, "axis"));
    std::vector<const Tensor*> inputs;
    for (int i = 0; i < ctx->num_inputs(); ++i) {
      RN_REQUIRE(ctx->input(i).shape() == first.shape(), "Pack: input ", i, " has shape ",
                 ctx->input(i).shape().DebugString(), ", input 0 has ",
                 first.shape().DebugString());
      inputs.push_back(&ctx->input(i));
    }
    TensorShape out_shape = first.shape();
    out_shape.InsertDim(axis, ctx->num_inputs());
    return WriteConcatenation(ctx, inputs, out_shape, axis);
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t axis_ = 0;
};

// Writes pieces of `x` along `axis` with the given sizes to outputs 0..n-1.
absl::Status SplitInto(OpKernelContext* ctx, const Tensor& x, int axis,
                       const std::vector<int64_t>& sizes, bool drop_axis) {
  int64_t outer = 1, inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dim_size(d);
  for (int d = axis + 1; d < x.dims(); ++d) inner *= x.dim_size(d);
  const int size = DataTypeSize(x.dtype());
  const int64_t row_bytes = x.dim_size(axis) * inner * size;
  int64_t offset = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    TensorShape shape = x.shape();
    shape.set_dim(axis, sizes[i]);
    TensorShape out_shape = shape;
    if (drop_axis) out_shape.RemoveDim(axis);
    if (axis == 0) {  // a contiguous block of rows: share the buffer
      ASSIGN_OR_RETURN(Tensor out, x.Slice(offset, offset + sizes[i]).Reshaped(out_shape));
      ctx->set_output(static_cast<int>(i), std::move(out));
    } else {
      Tensor* out;
      RETURN_IF_ERROR(ctx->allocate_output(static_cast<int>(i), out_shape, &out));
      const int64_t piece_bytes = sizes[i] * inner * size;
      const char* src = static_cast<const char*>(x.raw_data()) + offset * inner * size;
      char* dst = static_cast<char*>(out->raw_data());
      for (int64_t o = 0; o < outer && piece_bytes > 0; ++o) {
        std::memcpy(dst + o * piece_bytes, src + o * row_bytes, piece_bytes);
      }
    }
    offset += sizes[i];
  }
  return absl::OkStatus();
}

class UnpackOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return ctx->GetAttr("axis", &axis_); }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    RN_REQUIRE(x.dims() >= 1, "cannot unpack a scalar");
    ASSIGN_OR_RETURN(int axis, Axis(axis_, x.dims(), "axis"));
    RN_REQUIRE(x.dim_size(axis) == ctx->num_outputs(), "cannot unpack dim ", axis, " of shape ",
               x.shape().DebugString(), " into ", ctx->num_outputs(), " outputs");
    return SplitInto(ctx, x, axis, std::vector<int64_t>(ctx->num_outputs(), 1), true);
  }

 private:
  int64_t axis_ = 0;
};

class SplitOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(1);
    RN_REQUIRE(x.dims() >= 1, "cannot split a scalar");
    ASSIGN_OR_RETURN(int64_t axis_value, IntScalar(ctx->input(0), "split_dim"));
    ASSIGN_OR_RETURN(int axis, Axis(axis_value, x.dims(), "split_dim"));
    const int n = ctx->num_outputs();
    RN_REQUIRE(x.dim_size(axis) % n == 0, "dimension ", axis, " of shape ", x.shape().DebugString(),
               " does not split evenly into ", n, " parts");
    return SplitInto(ctx, x, axis, std::vector<int64_t>(n, x.dim_size(axis) / n), false);
  }
};

class SplitVOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    RN_REQUIRE(x.dims() >= 1, "cannot split a scalar");
    ASSIGN_OR_RETURN(std::vector<int64_t> sizes, IntValues(ctx->input(1), "size_splits"));
    ASSIGN_OR_RETURN(int64_t axis_value, IntScalar(ctx->input(2), "split_dim"));
    ASSIGN_OR_RETURN(int axis, Axis(axis_value, x.dims(), "split_dim"));
    RN_REQUIRE(static_cast<int>(sizes.size()) == ctx->num_outputs(), "size_splits has ",
               sizes.size(), " entries for num_split ", ctx->num_outputs());
    int unknown = -1;
    int64_t known = 0;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] == -1) {
        RN_REQUIRE(unknown < 0, "only one size_splits entry can be -1");
        unknown = static_cast<int>(i);
      } else {
        RN_REQUIRE(sizes[i] >= 0, "size_splits has a negative entry ", sizes[i]);
        known += sizes[i];
      }
    }
    if (unknown >= 0) sizes[unknown] = x.dim_size(axis) - known;
    RN_REQUIRE((unknown < 0 ? known : known + sizes[unknown]) == x.dim_size(axis) &&
                   (unknown < 0 || sizes[unknown] >= 0),
               "size_splits must sum to ", x.dim_size(axis), " (dim ", axis, " of shape ",
               x.shape().DebugString(), "), got ", known);
    return SplitInto(ctx, x, axis, sizes, false);
  }
};

REGISTER_KERNEL(KernelDefBuilder("ConcatV2").Device(kCpu), ConcatV2Op);
REGISTER_KERNEL(KernelDefBuilder("Pack").Device(kCpu), PackOp);
REGISTER_KERNEL(KernelDefBuilder("Unpack").Device(kCpu), UnpackOp);
REGISTER_KERNEL(KernelDefBuilder("Split").Device(kCpu), SplitOp);
REGISTER_KERNEL(KernelDefBuilder("SplitV").Device(kCpu), SplitVOp);

}  // namespace
}  // namespace runnel
