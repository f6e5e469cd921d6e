// Small helpers for shape functions in ops/.
#pragma once

#include "core/shape_inference.h"

namespace runnel {

// Maps a possibly negative axis into [0, rank); fails naming the valid range.
absl::StatusOr<int> CanonicalAxis(int64_t axis, int rank);

// Reads the int32/int64 constant input i as a vector of int64; false if it is not constant.
bool ConstantVector(const InferenceContext& c, int i, std::vector<int64_t>* values);

}  // namespace runnel
