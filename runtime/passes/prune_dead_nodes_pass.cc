// prune_dead_nodes: nodes that no kept node needs (through data or control edges) go.
#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

class PruneDeadNodesPass : public GraphPass {
 public:
  const char* name() const override { return "prune_dead_nodes"; }

  absl::Status Run(const PassContext& ctx, Graph* graph) override {
    std::vector<bool> needed(graph->num_node_ids(), false);
    std::vector<const Node*> stack;
    for (const Node* node : graph->nodes()) {
      if (ctx.keep.contains(node->name())) {
        needed[node->id()] = true;
        stack.push_back(node);
      }
    }
    if (stack.empty()) return absl::OkStatus();  // nothing says what the graph is for
    while (!stack.empty()) {
      const Node* node = stack.back();
      stack.pop_back();
      for (const Edge* e : node->in_edges()) {
        if (!needed[e->src->id()]) {
          needed[e->src->id()] = true;
          stack.push_back(e->src);
        }
      }
    }
    for (int id = 0; id < graph->num_node_ids(); ++id) {
      if (graph->node(id) != nullptr && !needed[id]) graph->RemoveNode(graph->node(id));
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakePruneDeadNodesPass() {
  return std::make_unique<PruneDeadNodesPass>();
}

}  // namespace runnel
