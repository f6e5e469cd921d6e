// The graph optimizer: the passes of runtime/passes/ in a fixed order, chosen by level.
//   0  none
//   1  identity_elimination, constant_folding, common_subexpression_elimination,
//      prune_dead_nodes
//   2  (default) level 1 plus fold_batch_norm and fuse_bias_activation
// A session runs it on each step graph (session option graph_optimization_level);
// runnel-inspect --optimize runs it on a whole frozen graph (runtime/model_signature.h).
#pragma once

#include <memory>
#include <vector>

#include "runtime/passes/graph_pass.h"

namespace runnel {

inline constexpr int kMaxOptimizationLevel = 2;

std::vector<std::unique_ptr<GraphPass>> PassesForLevel(int level);

// Runs the passes of `level` over `graph`; a failing pass's error names it.
absl::Status OptimizeGraph(int level, const PassContext& ctx, Graph* graph);

}  // namespace runnel
