// prune_dead_nodes: nodes that no kept node needs (through data or control edges) go.
#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

class PruneDeadNodesPass : public GraphPass {
 public:
  const char* name() const override { return "prune_dead_nodes"; }

  absl::Status Run(const PassContext& ctx, GraphDef* graph) override {
    GraphIndex index(graph);
    absl::flat_hash_set<std::string> needed;
    std::vector<std::string> stack;
    for (const NodeDef& node : graph->node()) {
      if (ctx.keep.contains(node.name()) && needed.insert(node.name()).second) {
        stack.push_back(node.name());
      }
    }
    if (stack.empty()) return absl::OkStatus();  // nothing says what the graph is for
    while (!stack.empty()) {
      const NodeDef* node = index.Find(stack.back());
      stack.pop_back();
      for (const std::string& input : node->input()) {
        const std::string src = ParseInput(input).node;
        if (index.Find(src) != nullptr && needed.insert(src).second) stack.push_back(src);
      }
    }
    for (const NodeDef& node : graph->node()) {
      if (!needed.contains(node.name())) index.Remove(node.name());
    }
    index.Compact();
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakePruneDeadNodesPass() {
  return std::make_unique<PruneDeadNodesPass>();
}

}  // namespace runnel
