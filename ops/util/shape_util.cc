#include "ops/util/shape_util.h"

namespace runnel {

absl::StatusOr<int> CanonicalAxis(int64_t axis, int rank) {
  if (axis < -rank || axis >= rank) {
    return absl::InvalidArgumentError(
        absl::StrCat("axis ", axis, " is out of range [", -rank, ", ", rank, ") for rank ", rank));
  }
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

bool ConstantVector(const InferenceContext& c, int i, std::vector<int64_t>* values) {
  const Tensor* t = c.input_tensor(i);
  if (t == nullptr || t->dims() > 1) return false;
  values->clear();
  for (int64_t k = 0; k < t->NumElements(); ++k) {
    if (t->dtype() == DT_INT32)
      values->push_back(t->data<int32_t>()[k]);
    else if (t->dtype() == DT_INT64)
      values->push_back(t->data<int64_t>()[k]);
    else
      return false;
  }
  return true;
}

std::function<void(OpDefBuilder&)> FusedOpArgs() {
  return [](OpDefBuilder& b) {
    b.Input("args: num_args * T")
        .Attr("num_args: int >= 0")
        .Attr("fused_ops: list(string) = []")
        .Attr("epsilon: float = 0.0001");
  };
}

}  // namespace runnel
