// Small helpers shared by ops/: for shape functions, and the signature the fused ops add.
#pragma once

#include <functional>

#include "core/op_registry.h"
#include "core/shape_inference.h"

namespace runnel {

// Maps a possibly negative axis into [0, rank); fails naming the valid range.
absl::StatusOr<int> CanonicalAxis(int64_t axis, int rank);

// Reads the int32/int64 constant input i as a vector of int64; false if it is not constant.
bool ConstantVector(const InferenceContext& c, int i, std::vector<int64_t>* values);

// What the fused ops written by the fuse_bias_activation pass (runtime/passes/) add to
// their base op, with TensorFlow 1.15's signatures: `args` (the bias is args[0]) and
// fused_ops = ["BiasAdd"] or ["BiasAdd", "Relu" or "Relu6"]. Inference kernels only: no
// gradients.
std::function<void(OpDefBuilder&)> FusedOpArgs();

}  // namespace runnel
