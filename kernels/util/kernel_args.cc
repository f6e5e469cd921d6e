#include "kernels/util/kernel_args.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"
#include "kernels/util/broadcast.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

absl::Status CheckChannelVector(const Tensor& t, const char* name, int64_t channels,
                                bool may_be_empty, DataType dtype) {
  RN_REQUIRE(t.dtype() == dtype, name, " has dtype ", DataTypeString(t.dtype()), " but x has ",
             DataTypeString(dtype), "; Runnel's kernels need them equal");
  RN_REQUIRE(t.dims() == 1 && (t.dim_size(0) == channels || (may_be_empty && t.dim_size(0) == 0)),
             name, " must be a vector of ", channels, " elements (one per channel), got shape ",
             t.shape().DebugString());
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> Permutation(const Tensor& perm_tensor, int rank) {
  ASSIGN_OR_RETURN(std::vector<int64_t> perm, IntValues(perm_tensor, "perm"));
  RN_REQUIRE(static_cast<int>(perm.size()) == rank, "perm has ", perm.size(),
             " entries for an input of rank ", rank);
  std::vector<bool> seen(rank, false);
  for (int64_t p : perm) {
    RN_REQUIRE(p >= 0 && p < rank && !seen[p], "perm [", absl::StrJoin(perm, ","),
               "] is not a permutation of the input's ", rank, " dims");
    seen[p] = true;
  }
  return perm;
}

absl::StatusOr<TensorShape> TiledShape(const TensorShape& x, const Tensor& multiples_tensor) {
  ASSIGN_OR_RETURN(std::vector<int64_t> multiples, IntValues(multiples_tensor, "multiples"));
  RN_REQUIRE(static_cast<int>(multiples.size()) == x.dims(), "multiples has ", multiples.size(),
             " entries for an input of rank ", x.dims());
  TensorShape shape;
  for (int d = 0; d < x.dims(); ++d) {
    RN_REQUIRE(multiples[d] >= 0, "multiples must be non-negative, got ", multiples[d]);
    shape.AddDim(x.dim_size(d) * multiples[d]);
  }
  return shape;
}

absl::StatusOr<Padding> PadAmounts(const TensorShape& x, const Tensor& paddings) {
  RN_REQUIRE(paddings.dims() == 2 && paddings.dim_size(0) == x.dims() && paddings.dim_size(1) == 2,
             "paddings must have shape [", x.dims(), ",2], got ", paddings.shape().DebugString());
  ASSIGN_OR_RETURN(std::vector<int64_t> pads, IntValues(paddings, "paddings"));
  Padding p;
  for (int d = 0; d < x.dims(); ++d) {
    RN_REQUIRE(pads[2 * d] >= 0 && pads[2 * d + 1] >= 0, "paddings must be non-negative, got ",
               pads[2 * d], " and ", pads[2 * d + 1], " for dim ", d);
    p.before.push_back(pads[2 * d]);
    p.after.push_back(pads[2 * d + 1]);
  }
  return p;
}

absl::Status CheckAssign(const Tensor& var, const Tensor& value, bool validate_shape,
                         const std::string& name) {
  RN_REQUIRE(!validate_shape || !var.IsInitialized() || var.shape() == value.shape(), "Assign to ",
             name, ": the variable has shape ", var.shape().DebugString(), " but the value has ",
             value.shape().DebugString(), " (set validate_shape=False to change it)");
  return absl::OkStatus();
}

absl::Status CheckCrossEntropy(const Tensor& logits, const Tensor& labels, bool sparse) {
  RN_REQUIRE(logits.dims() == 2, "logits must be [batch, classes], got shape ",
             logits.shape().DebugString());
  const int64_t batch = logits.dim_size(0);
  if (sparse) {
    RN_REQUIRE(labels.dims() == 1 && labels.dim_size(0) == batch, "labels must be [", batch,
               "] for logits of shape ", logits.shape().DebugString(), ", got shape ",
               labels.shape().DebugString());
  } else {
    RN_REQUIRE(labels.shape() == logits.shape(), "logits and labels must have the same shape, got ",
               logits.shape().DebugString(), " and ", labels.shape().DebugString());
  }
  return absl::OkStatus();
}

absl::Status LockApplyRefs(OpKernelContext* ctx, int refs, const TensorShape& grad,
                           std::unique_lock<std::mutex>* locks) {
  for (int r = 0; r < refs; ++r) {
    const TensorRef& ref = ctx->input_ref(r);
    locks[r] = std::unique_lock<std::mutex>(*ref.mu);
    if (!ref.tensor->IsInitialized()) return UninitializedError(ref);
    RN_REQUIRE(ref.tensor->shape() == grad, *ref.name, " has shape ",
               ref.tensor->shape().DebugString(), " but the gradient has shape ",
               grad.DebugString());
  }
  return absl::OkStatus();
}

absl::Status BatchNormAttrs::Read(OpKernelConstruction* ctx) {
  std::string format;
  RETURN_IF_ERROR(ctx->GetAttr("data_format", &format));
  nchw = format == "NCHW";
  RETURN_IF_ERROR(ctx->GetAttr("epsilon", &epsilon));
  if (ctx->HasAttr("exponential_avg_factor")) {
    RETURN_IF_ERROR(ctx->GetAttr("exponential_avg_factor", &factor));
  }
  return ctx->GetAttr("is_training", &training);
}

absl::Status BatchNormAttrs::CheckForwardArgs(OpKernelContext* ctx, int64_t channels,
                                              DataType dtype) const {
  RETURN_IF_ERROR(CheckChannelVector(ctx->input(1), "scale", channels, false, dtype));
  RETURN_IF_ERROR(CheckChannelVector(ctx->input(2), "offset", channels, false, dtype));
  RETURN_IF_ERROR(CheckChannelVector(ctx->input(3), "mean", channels, training, dtype));
  return CheckChannelVector(ctx->input(4), "variance", channels, training, dtype);
}

absl::Status BatchNormAttrs::CheckGradArgs(OpKernelContext* ctx, int64_t channels,
                                           DataType dtype) const {
  RETURN_IF_ERROR(CheckChannelVector(ctx->input(2), "scale", channels, false, dtype));
  RETURN_IF_ERROR(CheckChannelVector(ctx->input(3), "reserve_space_1", channels, false, dtype));
  return CheckChannelVector(ctx->input(4), "reserve_space_2", channels, false, dtype);
}

absl::StatusOr<BatchMatMulPlan> PlanBatchMatMul(const TensorShape& x, const TensorShape& y,
                                                bool adj_x, bool adj_y, bool broadcast) {
  RN_REQUIRE(x.dims() >= 2 && y.dims() >= 2, "BatchMatMul: inputs must have rank >= 2, x is ",
             x.DebugString(), ", y is ", y.DebugString());
  const int xr = x.dims(), yr = y.dims();
  const int64_t xm = x.dim_size(xr - 2), xk = x.dim_size(xr - 1);
  const int64_t ym = y.dim_size(yr - 2), yk = y.dim_size(yr - 1);
  RN_REQUIRE((adj_x ? xm : xk) == (adj_y ? yk : ym), "BatchMatMul: inner dimensions differ, x is ",
             x.DebugString(), ", y is ", y.DebugString());
  TensorShape xb(x.dim_sizes().subspan(0, xr - 2));
  TensorShape yb(y.dim_sizes().subspan(0, yr - 2));
  if (!broadcast) {
    RN_REQUIRE(xb == yb, "BatchMatMul: batch dims differ, x is ", x.DebugString(), ", y is ",
               y.DebugString());
  }
  ASSIGN_OR_RETURN(BroadcastPlan broadcast_plan, MakeBroadcastPlan(xb, yb));
  BatchMatMulPlan plan;
  plan.out_shape = broadcast_plan.out_shape;
  plan.m = adj_x ? xk : xm;
  plan.n = adj_y ? ym : yk;
  plan.k = adj_x ? xm : xk;
  plan.out_shape.AddDim(plan.m);
  plan.out_shape.AddDim(plan.n);
  const int64_t batches = broadcast_plan.out_shape.num_elements();
  plan.x_index.resize(batches);
  plan.y_index.resize(batches);
  if (batches == 0) return plan;
  const int64_t inner = broadcast_plan.dims.back();
  ForEachBroadcastRow(broadcast_plan, 0, batches / inner, [&](int64_t row, int64_t xo, int64_t yo) {
    for (int64_t i = 0; i < inner; ++i) {
      plan.x_index[row * inner + i] = xo + i * broadcast_plan.x_strides.back();
      plan.y_index[row * inner + i] = yo + i * broadcast_plan.y_strides.back();
    }
  });
  return plan;
}

absl::StatusOr<TensorShape> ConcatShape(const std::vector<const Tensor*>& inputs,
                                        int64_t axis_value, int* axis) {
  const Tensor& first = *inputs.at(0);
  RN_REQUIRE(first.dims() >= 1, "cannot concatenate scalars");
  const int rank = first.dims();
  RN_REQUIRE(axis_value >= -rank && axis_value < rank, "axis ", axis_value,
             " is out of range for rank ", rank);
  *axis = static_cast<int>(axis_value < 0 ? axis_value + rank : axis_value);
  TensorShape out_shape = first.shape();
  int64_t along = 0;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = *inputs[i];
    RN_REQUIRE(t.dims() == rank, "ConcatV2: input ", i, " has shape ", t.shape().DebugString(),
               ", input 0 has ", first.shape().DebugString());
    for (int d = 0; d < rank; ++d) {
      RN_REQUIRE(d == *axis || t.dim_size(d) == first.dim_size(d), "ConcatV2: input ", i,
                 " has shape ", t.shape().DebugString(), ", input 0 has ",
                 first.shape().DebugString(), "; they differ in dim ", d,
                 " which is not the concat axis ", *axis);
    }
    along += t.dim_size(*axis);
  }
  out_shape.set_dim(*axis, along);
  return out_shape;
}

absl::StatusOr<DimVector> SliceSizes(const TensorShape& x, const std::vector<int64_t>& begin,
                                     const Tensor& size_input) {
  ASSIGN_OR_RETURN(std::vector<int64_t> size, IntValues(size_input, "size"));
  RN_REQUIRE(
      static_cast<int>(begin.size()) == x.dims() && static_cast<int>(size.size()) == x.dims(),
      "begin and size must have one entry per input dim (", x.dims(), "), have ", begin.size(),
      " and ", size.size());
  DimVector sizes(x.dims());
  for (int d = 0; d < x.dims(); ++d) {
    int64_t s = size[d] == -1 ? x.dim_size(d) - begin[d] : size[d];
    RN_REQUIRE(begin[d] >= 0 && s >= 0 && begin[d] + s <= x.dim_size(d), "slice [", begin[d], ", ",
               begin[d] + s, ") of dim ", d, " is out of bounds for input shape ", x.DebugString());
    sizes[d] = s;
  }
  return sizes;
}

absl::StatusOr<GatherPlan> PlanGather(const TensorShape& params, const TensorShape& indices,
                                      int64_t axis) {
  RN_REQUIRE(params.dims() >= 1, "params must have rank >= 1");
  RN_REQUIRE(axis >= -params.dims() && axis < params.dims(), "axis ", axis,
             " is out of range for params of shape ", params.DebugString());
  if (axis < 0) axis += params.dims();
  GatherPlan plan;
  for (int d = 0; d < axis; ++d) {
    plan.out_shape.AddDim(params.dim_size(d));
    plan.outer *= params.dim_size(d);
  }
  for (int d = 0; d < indices.dims(); ++d) plan.out_shape.AddDim(indices.dim_size(d));
  for (int d = static_cast<int>(axis) + 1; d < params.dims(); ++d) {
    plan.out_shape.AddDim(params.dim_size(d));
    plan.inner *= params.dim_size(d);
  }
  plan.limit = params.dim_size(static_cast<int>(axis));
  return plan;
}

absl::StatusOr<MatMulPlan> PlanMatMul(const TensorShape& a, const TensorShape& b, bool ta,
                                      bool tb) {
  RN_REQUIRE(a.dims() == 2 && b.dims() == 2, "MatMul: both inputs must be matrices, a is ",
             a.DebugString(), ", b is ", b.DebugString());
  MatMulPlan plan{a.dim_size(ta ? 1 : 0), a.dim_size(ta ? 0 : 1), b.dim_size(tb ? 0 : 1)};
  RN_REQUIRE(plan.k == b.dim_size(tb ? 1 : 0), "MatMul: inner dimensions differ, a is ",
             a.DebugString(), ta ? " (transposed)" : "", ", b is ", b.DebugString(),
             tb ? " (transposed)" : "");
  return plan;
}

absl::Status CheckAddN(OpKernelContext* ctx) {
  const Tensor& first = ctx->input(0);
  for (int i = 1; i < ctx->num_inputs(); ++i) {
    RN_REQUIRE(ctx->input(i).shape() == first.shape(), "AddN: input ", i, " has shape ",
               ctx->input(i).shape().DebugString(), ", input 0 has ", first.shape().DebugString());
  }
  return absl::OkStatus();
}

absl::StatusOr<StridedSlicePlan> PlanStridedSliceOf(const TensorShape& shape, const Tensor& begin_t,
                                                    const Tensor& end_t, const Tensor& strides_t,
                                                    const StridedSliceMasks& masks) {
  ASSIGN_OR_RETURN(std::vector<int64_t> begin, IntValues(begin_t, "begin"));
  ASSIGN_OR_RETURN(std::vector<int64_t> end, IntValues(end_t, "end"));
  ASSIGN_OR_RETURN(std::vector<int64_t> strides, IntValues(strides_t, "strides"));
  return PlanStridedSlice(PartialShape(shape), begin, end, strides, masks);
}

absl::StatusOr<StridedSliceGradPlan> PlanStridedSliceGrad(OpKernelContext* ctx,
                                                          const StridedSliceMasks& masks) {
  StridedSliceGradPlan plan;
  ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(ctx->input(0), "shape"));
  ASSIGN_OR_RETURN(plan.shape, TensorShape::FromDims(dims));
  const Tensor& dy = ctx->input(4);
  ASSIGN_OR_RETURN(plan.slice, PlanStridedSliceOf(plan.shape, ctx->input(1), ctx->input(2),
                                                  ctx->input(3), masks));
  RN_REQUIRE(plan.slice.final_shape.ToTensorShape() == dy.shape(), "dy has shape ",
             dy.shape().DebugString(), " but the slice has shape ",
             plan.slice.final_shape.DebugString());
  return plan;
}

}  // namespace runnel
