#include "kernels/util/kernel_args.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"
#include "kernels/util/int_values.h"

namespace runnel {

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
    if (!ref.tensor->IsInitialized()) {
      return absl::FailedPreconditionError(
          absl::StrCat("Attempting to use uninitialized value ", *ref.name));
    }
    RN_REQUIRE(ref.tensor->shape() == grad, *ref.name, " has shape ",
               ref.tensor->shape().DebugString(), " but the gradient has shape ",
               grad.DebugString());
  }
  return absl::OkStatus();
}

absl::Status CheckChannelVector(const Tensor& t, const char* name, int64_t channels,
                                bool may_be_empty, DataType dtype) {
  RN_REQUIRE(t.dtype() == dtype, name, " has dtype ", DataTypeString(t.dtype()), " but x has ",
             DataTypeString(dtype), "; Runnel's kernels need them equal");
  RN_REQUIRE(t.dims() == 1 && (t.dim_size(0) == channels || (may_be_empty && t.dim_size(0) == 0)),
             name, " must be a vector of ", channels, " elements (one per channel), got shape ",
             t.shape().DebugString());
  return absl::OkStatus();
}

absl::Status BatchNormAttrs::Read(OpKernelConstruction* ctx) {
  std::string format;
  RETURN_IF_ERROR(ctx->GetAttr("data_format", &format));
  nchw = format == "NCHW";
  RETURN_IF_ERROR(ctx->GetAttr("epsilon", &epsilon));
  return ctx->GetAttr("is_training", &training);
}

}  // namespace runnel
