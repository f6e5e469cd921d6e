// Range: an arithmetic sequence.
#include <cmath>

#include "core/op_registry.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

absl::Status RangeShape(InferenceContext* c) {
  for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(c->WithRank(i, 0));
  const Tensor *start = c->input_tensor(0), *limit = c->input_tensor(1),
               *delta = c->input_tensor(2);
  if (start == nullptr || limit == nullptr || delta == nullptr) {
    c->set_output(0, PartialShape::UnknownWithRank(1));
    return absl::OkStatus();
  }
  double s = 0, l = 0, d = 0;
  VisitDataType(start->dtype(), [&](auto zero) {
    using T = decltype(zero);
    s = static_cast<double>(start->scalar<T>());
    l = static_cast<double>(limit->scalar<T>());
    d = static_cast<double>(delta->scalar<T>());
  });
  if (d == 0) return c->InvalidArgument("Range: delta must not be 0");
  if ((d > 0 && s > l) || (d < 0 && s < l)) {
    return c->InvalidArgument("Range: start ", s, " is beyond limit ", l, " for delta ", d);
  }
  bool integral = start->dtype() == DT_INT32 || start->dtype() == DT_INT64;
  int64_t size = integral ? static_cast<int64_t>((std::abs(l - s) + std::abs(d) - 1) / std::abs(d))
                          : static_cast<int64_t>(std::ceil(std::abs((l - s) / d)));
  c->set_output(0, PartialShape{size});
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("Range")
    .SetNoGradient()
    .Input("start: Tidx")
    .Input("limit: Tidx")
    .Input("delta: Tidx")
    .Output("output: Tidx")
    .Attr("Tidx: {float, double, int32, int64} = DT_INT32")
    .SetShapeFn(RangeShape)
    .Doc("[start, start + delta, ...) up to but not including limit.");

}  // namespace runnel
