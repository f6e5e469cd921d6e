#include "runtime/passes/optimizer.h"

#include "core/status.h"

namespace runnel {

std::vector<std::unique_ptr<GraphPass>> PassesForLevel(int level) {
  std::vector<std::unique_ptr<GraphPass>> passes;
  if (level <= 0) return passes;
  passes.push_back(MakeIdentityEliminationPass());
  passes.push_back(MakeConstantFoldingPass());
  passes.push_back(MakeCommonSubexpressionPass());
  if (level >= 2) {
    passes.push_back(MakeFoldBatchNormPass());
    passes.push_back(MakeIdentityEliminationPass());  // the Identity nodes folding left
    passes.push_back(MakeFuseBiasActivationPass());
  }
  passes.push_back(MakePruneDeadNodesPass());
  return passes;
}

// Whether the graph has a while loop. The passes that rewrite nodes do not know frames
// yet (a constant folded out of a loop, or two nodes of different frames merged, would put
// a node in the wrong frame), so a graph with loops is only pruned.
static bool HasLoops(const Graph& graph) {
  for (const Node* node : graph.nodes()) {
    if (node->type_string() == "Enter") return true;
  }
  return false;
}

absl::Status OptimizeGraph(int level, const PassContext& ctx, Graph* graph) {
  const bool loops = HasLoops(*graph);
  for (const auto& pass : PassesForLevel(level)) {
    if (loops && pass->name() != std::string("prune_dead_nodes")) continue;
    absl::Status status = pass->Run(ctx, graph);
    if (!status.ok()) {
      return AppendToMessage(status, absl::StrCat(" (in graph pass ", pass->name(), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace runnel
