// How a reduction over some axes runs: the output shape and the input's dims merged into
// alternating kept and reduced groups ([k0, r0, k1, r1, ...], size-1 dims dropped), which
// the CPU and GPU kernels fold one reduced group at a time, innermost first.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/tensor.h"

namespace runnel {

struct ReductionPlan {
  TensorShape out_shape;
  int64_t count = 1;  // the elements folded into each output
  std::vector<std::pair<int64_t, bool>> groups;  // (size, reduced)
  int passes = 0;                                // reduced groups
};

// `axes`: a scalar or vector of int32 or int64 axes, negative ones from the end.
absl::StatusOr<ReductionPlan> MakeReductionPlan(const TensorShape& x, const Tensor& axes,
                                                bool keep_dims);

}  // namespace runnel
