// StridedSlice's index arithmetic (masks, ellipsis, new axes, negative indices), shared
// by the op's shape function and its kernel so both agree on every corner case.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "core/attr_value.h"
#include "core/tensor_shape.h"

namespace runnel {

struct StridedSliceMasks {
  int64_t begin = 0, end = 0, ellipsis = 0, new_axis = 0, shrink_axis = 0;
};

// Reads begin_mask, end_mask, ellipsis_mask, new_axis_mask and shrink_axis_mask.
absl::Status ReadStridedSliceMasks(const AttrSlice& attrs, StridedSliceMasks* masks);

struct StridedSlicePlan {
  // Per input dim: first index, stride, and number of elements taken.
  std::vector<int64_t> begin, stride, size;
  // The output's shape (new axes added, shrunk axes removed); -1 where the input dim is
  // unknown.
  PartialShape final_shape;
};

// `input` may have unknown dims (shape inference); its rank must be known.
absl::StatusOr<StridedSlicePlan> PlanStridedSlice(const PartialShape& input,
                                                  const std::vector<int64_t>& begin,
                                                  const std::vector<int64_t>& end,
                                                  const std::vector<int64_t>& strides,
                                                  const StridedSliceMasks& masks);

}  // namespace runnel
