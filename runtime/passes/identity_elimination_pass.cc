// identity_elimination: Identity and StopGradient nodes read straight through, and NoOps
// whose control edges can be passed on without multiplying them, disappear.
#include "core/status.h"
#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

class IdentityEliminationPass : public GraphPass {
 public:
  const char* name() const override { return "identity_elimination"; }

  absl::Status Run(const PassContext& ctx, Graph* graph) override {
    for (int id : TopologicalIds(*graph)) {
      Node* node = graph->node(id);
      if (node == nullptr || ctx.keep.contains(node->name())) continue;
      if (node->type_string() == "Identity" || node->type_string() == "StopGradient") {
        RETURN_IF_ERROR(SkipIdentity(graph, node));
      } else if (node->type_string() == "NoOp") {
        SkipNoOp(graph, node);
      }
    }
    return absl::OkStatus();
  }

 private:
  // Kept: an Identity with control inputs (it orders its readers), one reading a Switch
  // (a cond's pivot: control edges from a Switch would not carry its deadness), a
  // stateful node (it snapshots a variable or a feed) or another device.
  static absl::Status SkipIdentity(Graph* graph, Node* node) {
    if (node->in_edges().size() != 1 || node->num_inputs() != 1) return absl::OkStatus();
    const Edge* in = node->input_edge(0);
    Node* src = in->src;
    if (src->type_string() == "Switch" || src->op_def().is_stateful() ||
        DeviceOf(*src) != DeviceOf(*node)) {
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(MoveReaders(graph, node, src, in->src_output));
    graph->RemoveNode(node);
    return absl::OkStatus();
  }

  // A NoOp with C control inputs and R control readers becomes C x R direct edges, when
  // that is no more than the C + R it replaces.
  static void SkipNoOp(Graph* graph, Node* node) {
    std::vector<Node*> inputs, readers;
    for (const Edge* e : node->in_edges()) {
      if (e->src->type_string() == "Switch") return;  // see SkipIdentity
      inputs.push_back(e->src);
    }
    for (const Edge* e : node->out_edges()) readers.push_back(e->dst);
    const size_t c = inputs.size(), r = readers.size();
    if (c * r > c + r) return;
    for (Node* reader : readers) {
      for (Node* input : inputs) graph->AddControlEdge(input, reader);
    }
    graph->RemoveNode(node);
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeIdentityEliminationPass() {
  return std::make_unique<IdentityEliminationPass>();
}

}  // namespace runnel
