#include "core/shape_inference.h"

namespace runnel {

absl::Status InferenceContext::WithRank(int i, int rank) const {
  int r = inputs_[i].rank();
  if (r >= 0 && r != rank) {
    return InvalidArgument("input ", i, " must have rank ", rank, ", has shape ",
                           inputs_[i].DebugString());
  }
  return absl::OkStatus();
}

absl::Status InferenceContext::WithRankAtLeast(int i, int rank) const {
  int r = inputs_[i].rank();
  if (r >= 0 && r < rank) {
    return InvalidArgument("input ", i, " must have rank at least ", rank, ", has shape ",
                           inputs_[i].DebugString());
  }
  return absl::OkStatus();
}

PartialShape InferenceContext::ShapeFromShapeTensor(int i) const {
  const Tensor* t = input_tensors_[i];
  if (t != nullptr && t->dims() == 1) {
    PartialShape shape;
    for (int64_t k = 0; k < t->NumElements(); ++k) {
      int64_t d = t->dtype() == DT_INT64 ? t->data<int64_t>()[k] : t->data<int32_t>()[k];
      shape.AddDim(d < 0 ? PartialShape::kUnknownDim : d);
    }
    return shape;
  }
  if (shape_sources_[i] != nullptr) return *shape_sources_[i];
  const PartialShape& s = inputs_[i];
  if (s.rank() == 1 && s.dim(0) >= 0) return PartialShape::UnknownWithRank(s.dim(0));
  return PartialShape::UnknownRank();
}

bool InferenceContext::ConstantScalar(int i, int64_t* value) const {
  const Tensor* t = input_tensors_[i];
  if (t == nullptr || t->NumElements() != 1) return false;
  if (t->dtype() == DT_INT32) {
    *value = t->data<int32_t>()[0];
    return true;
  }
  if (t->dtype() == DT_INT64) {
    *value = t->data<int64_t>()[0];
    return true;
  }
  return false;
}

namespace shape_fn {

absl::Status Unknown(InferenceContext*) { return absl::OkStatus(); }

absl::Status Unchanged(InferenceContext* c) {
  c->set_output(0, c->input(0));
  return absl::OkStatus();
}

// GCC 12 warns that moving an empty absl::InlinedVector reads its (unused) inline
// storage; it copies those bytes but never uses them.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
absl::Status Scalar(InferenceContext* c) {
  c->set_output(0, PartialShape{});
  return absl::OkStatus();
}
#pragma GCC diagnostic pop

absl::StatusOr<PartialShape> Broadcast(const PartialShape& a, const PartialShape& b) {
  if (a.unknown_rank() || b.unknown_rank()) return PartialShape::UnknownRank();
  int rank = std::max(a.rank(), b.rank());
  PartialShape out = PartialShape::UnknownWithRank(rank);
  for (int i = 0; i < rank; ++i) {
    int ia = i - (rank - a.rank()), ib = i - (rank - b.rank());
    int64_t da = ia >= 0 ? a.dim(ia) : 1;
    int64_t db = ib >= 0 ? b.dim(ib) : 1;
    int64_t d;
    if (da == 1) {
      d = db;
    } else if (db == 1) {
      d = da;
    } else if (da < 0 || db < 0) {
      d = da < 0 ? db : da;  // the known one, or unknown
    } else if (da == db) {
      d = da;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("shapes ", a.DebugString(), " and ",
                                                     b.DebugString(), " cannot be broadcast"));
    }
    out.set_dim(i, d);
  }
  return out;
}

absl::Status BroadcastBinary(InferenceContext* c) {
  auto shape = Broadcast(c->input(0), c->input(1));
  if (!shape.ok()) return shape.status();
  c->set_output(0, *shape);
  return absl::OkStatus();
}

}  // namespace shape_fn
}  // namespace runnel
