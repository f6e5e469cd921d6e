// identity_elimination: Identity and StopGradient nodes read straight through, and NoOps
// whose control edges can be passed on without multiplying them, disappear.
#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

class IdentityEliminationPass : public GraphPass {
 public:
  const char* name() const override { return "identity_elimination"; }

  absl::Status Run(const PassContext& ctx, GraphDef* graph) override {
    GraphIndex index(graph);
    for (const std::string& name : index.TopologicalOrder()) {
      NodeDef* node = index.Find(name);
      if (node == nullptr || ctx.keep.contains(name)) continue;
      if (node->op() == "Identity" || node->op() == "StopGradient") {
        SkipIdentity(&index, node);
      } else if (node->op() == "NoOp") {
        SkipNoOp(&index, node);
      }
    }
    index.Compact();
    return absl::OkStatus();
  }

 private:
  // Kept: an Identity with control inputs (it orders its readers), one reading a Switch
  // (a cond's pivot: control edges from a Switch would not carry its deadness), a
  // stateful node (it snapshots a variable or a feed) or another device.
  static void SkipIdentity(GraphIndex* index, NodeDef* node) {
    if (node->input_size() != 1) return;
    const TensorId in = ParseInput(node->input(0));
    const NodeDef* src = index->Find(in.node);
    if (src == nullptr || src->op() == "Switch" || IsStateful(*src) ||
        src->device() != node->device()) {
      return;
    }
    index->Rewire(node->name(), 0, InputName(in.node, in.port));
    index->Rewire(node->name(), kControlSlot, "^" + in.node);
    index->Remove(node->name());
  }

  // A NoOp with C control inputs and R control readers becomes C x R direct edges, when
  // that is no more than the C + R it replaces.
  static void SkipNoOp(GraphIndex* index, NodeDef* node) {
    std::vector<std::string> inputs(node->input().begin(), node->input().end());
    std::vector<NodeDef*> readers;
    for (const auto& [reader, i] : index->Consumers(node->name())) {
      if (!index->IsRemoved(reader->name())) readers.push_back(reader);
    }
    const size_t c = inputs.size(), r = readers.size();
    if (c * r > c + r) return;
    for (const std::string& input : inputs) {
      const NodeDef* src = index->Find(ParseInput(input).node);
      if (src != nullptr && src->op() == "Switch") return;  // see SkipIdentity
    }
    index->Rewire(node->name(), kControlSlot, "");
    for (NodeDef* reader : readers) {
      for (const std::string& input : inputs) {
        if (std::count(reader->input().begin(), reader->input().end(), input) == 0) {
          index->AddInput(reader, input);
        }
      }
    }
    index->Remove(node->name());
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeIdentityEliminationPass() {
  return std::make_unique<IdentityEliminationPass>();
}

}  // namespace runnel
