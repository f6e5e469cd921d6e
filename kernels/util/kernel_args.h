// Argument checks and shapes that a CPU kernel and its GPU twin share, so both accept and
// reject the same inputs with the same messages.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/op_kernel.h"
#include "core/strided_slice.h"
#include "core/tensor.h"

namespace runnel {

// Transpose's perm (int32 or int64), checked to be a permutation of `rank` dims.
absl::StatusOr<std::vector<int64_t>> Permutation(const Tensor& perm, int rank);

// Tile's output shape for `x` and `multiples`.
absl::StatusOr<TensorShape> TiledShape(const TensorShape& x, const Tensor& multiples);

// Pad's amounts before and after each dim of `x` from its [rank, 2] `paddings`.
struct Padding {
  std::vector<int64_t> before, after;
};
absl::StatusOr<Padding> PadAmounts(const TensorShape& x, const Tensor& paddings);

// Assign's check: `value` may replace `var` (`name`'s) unless validate_shape forbids a
// new shape.
absl::Status CheckAssign(const Tensor& var, const Tensor& value, bool validate_shape,
                         const std::string& name);

// The softmax cross-entropy's shapes: logits [batch, classes] and labels of the same shape,
// or [batch] class indices when `sparse`.
absl::Status CheckCrossEntropy(const Tensor& logits, const Tensor& labels, bool sparse);

// ConcatV2's output shape and axis (negative from the end) for `inputs`.
absl::StatusOr<TensorShape> ConcatShape(const std::vector<const Tensor*>& inputs,
                                        int64_t axis_value, int* axis);

// Slice's sizes for `begin` and `size` (-1: to the end) within `x`.
absl::StatusOr<DimVector> SliceSizes(const TensorShape& x, const std::vector<int64_t>& begin,
                                     const Tensor& size);

// GatherV2's output shape and the [outer, limit, inner] view of params along `axis`.
struct GatherPlan {
  TensorShape out_shape;
  int64_t outer = 1, limit = 0, inner = 1;
};
absl::StatusOr<GatherPlan> PlanGather(const TensorShape& params, const TensorShape& indices,
                                      int64_t axis);

// AddN: every input shaped as the first.
absl::Status CheckAddN(OpKernelContext* ctx);

// StridedSlice's plan for an input of `shape` from its begin, end and strides inputs.
absl::StatusOr<StridedSlicePlan> PlanStridedSliceOf(const TensorShape& shape, const Tensor& begin,
                                                    const Tensor& end, const Tensor& strides,
                                                    const StridedSliceMasks& masks);

// StridedSliceGrad's inputs (shape, begin, end, strides, dy): the input's shape and the
// slice's plan, dy checked to have the slice's shape.
struct StridedSliceGradPlan {
  TensorShape shape;
  StridedSlicePlan slice;
};
absl::StatusOr<StridedSliceGradPlan> PlanStridedSliceGrad(OpKernelContext* ctx,
                                                          const StridedSliceMasks& masks);

// MatMul's [m, k] x [k, n] (a and b matrices, transposed as asked).
struct MatMulPlan {
  int64_t m = 0, k = 0, n = 0;
};
absl::StatusOr<MatMulPlan> PlanMatMul(const TensorShape& a, const TensorShape& b, bool transpose_a,
                                      bool transpose_b);

// BatchMatMul(V2): the output shape and, for each output matrix, the x and y matrices it
// multiplies (batch dims broadcast when `broadcast`, V2; equal otherwise).
struct BatchMatMulPlan {
  TensorShape out_shape;
  int64_t m = 0, n = 0, k = 0;
  std::vector<int64_t> x_index, y_index;
};
absl::StatusOr<BatchMatMulPlan> PlanBatchMatMul(const TensorShape& x, const TensorShape& y,
                                                bool adj_x, bool adj_y, bool broadcast);

// The attributes FusedBatchNorm and its gradient share, and the checks of their
// per-channel inputs: `channels` elements of x's dtype (Runnel's kernels need them equal).
struct BatchNormAttrs {
  bool nchw = false, training = true;
  float epsilon = 1e-4f;
  float factor = 1.0f;  // exponential_avg_factor (the forward ops from V3 on)

  absl::Status Read(OpKernelConstruction* ctx);
  // The forward op's scale, offset, mean and variance (inputs 1-4; mean and variance may
  // be empty when training).
  absl::Status CheckForwardArgs(OpKernelContext* ctx, int64_t channels, DataType dtype) const;
  // The gradient's scale, reserve_space_1 and reserve_space_2 (inputs 2-4).
  absl::Status CheckGradArgs(OpKernelContext* ctx, int64_t channels, DataType dtype) const;
};

// The Apply* ops: locks the variable and its slots (inputs [0, refs), in input order) into
// `locks` and checks each is initialized and shaped as the gradient.
absl::Status LockApplyRefs(OpKernelContext* ctx, int refs, const TensorShape& grad,
                           std::unique_lock<std::mutex>* locks);

// The Apply* ops' scalar inputs (all but the refs and the gradient), in input order.
template <typename T>
absl::Status ApplyScalars(OpKernelContext* ctx, int refs, int grad, T* out) {
  int n = 0;
  for (int i = refs; i < ctx->num_inputs(); ++i) {
    if (i == grad) continue;
    RN_REQUIRE(ctx->input(i).NumElements() == 1, "input ", i, " must be a scalar, got shape ",
               ctx->input(i).shape().DebugString());
    out[n++] = ctx->input(i).scalar<T>();
  }
  return absl::OkStatus();
}

}  // namespace runnel
