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

absl::Status OptimizeGraph(int level, const PassContext& ctx, Graph* graph) {
  for (const auto& pass : PassesForLevel(level)) {
    absl::Status status = pass->Run(ctx, graph);
    if (!status.ok()) {
      return AppendToMessage(status, absl::StrCat(" (in graph pass ", pass->name(), ")"));
    }
  }
  return absl::OkStatus();
}

}  // namespace runnel
