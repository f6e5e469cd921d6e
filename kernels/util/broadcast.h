// Numpy broadcasting for elementwise kernels: a plan that collapses the output into rows
// and gives each operand's stride per collapsed dim (0 where it is broadcast).
#pragma once

#include "absl/status/statusor.h"
#include "core/tensor_shape.h"

namespace runnel {

struct BroadcastPlan {
  TensorShape out_shape;
  // Collapsed dims of the output, and per operand the element stride of each (0 = repeat).
  DimVector dims;
  DimVector x_strides, y_strides;
};

// Fails with both shapes in the message when they do not broadcast.
absl::StatusOr<BroadcastPlan> MakeBroadcastPlan(const TensorShape& x, const TensorShape& y);

// Calls fn(row, x_offset, y_offset) for each row of the collapsed output in [begin, end),
// where a row is the innermost collapsed dim.
template <typename Fn>
void ForEachBroadcastRow(const BroadcastPlan& plan, int64_t begin, int64_t end, Fn&& fn) {
  const int outer = static_cast<int>(plan.dims.size()) - 1;
  DimVector index(outer, 0);
  int64_t x_off = 0, y_off = 0;
  // Position the counter at `begin`.
  int64_t rest = begin;
  for (int d = outer - 1; d >= 0; --d) {
    index[d] = rest % plan.dims[d];
    rest /= plan.dims[d];
    x_off += index[d] * plan.x_strides[d];
    y_off += index[d] * plan.y_strides[d];
  }
  for (int64_t row = begin; row < end; ++row) {
    fn(row, x_off, y_off);
    for (int d = outer - 1; d >= 0; --d) {
      x_off += plan.x_strides[d];
      y_off += plan.y_strides[d];
      if (++index[d] < plan.dims[d]) break;
      x_off -= plan.x_strides[d] * plan.dims[d];
      y_off -= plan.y_strides[d] * plan.dims[d];
      index[d] = 0;
    }
  }
}

}  // namespace runnel
