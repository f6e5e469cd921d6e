// common_subexpression_elimination: nodes computing the same op with the same attributes
// from the same inputs on the same device become one; readers of the others read it.
// Stateful nodes, feeds and nodes without inputs (other than small constants) stay apart.
#include <algorithm>

#include "absl/strings/str_join.h"
#include "core/status.h"
#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

constexpr size_t kMaxConstBytes = 64 << 10;  // larger constants are not compared

// The node's identity: op, device, data inputs in order, control inputs as a set, attrs.
// Empty when the node must not be merged.
std::string Key(const Node& node) {
  const std::string& op = node.type_string();
  if (node.op_def().is_stateful()) return "";
  if (op == "Placeholder" || op == "PlaceholderWithDefault") return "";
  if (op == "Const") {
    // An attached value's def holds only dtype and shape: not comparable.
    if (node.attached_value() != nullptr ||
        node.def().attr().at("value").ByteSizeLong() > kMaxConstBytes) {
      return "";
    }
  } else if (node.in_edges().empty()) {
    return "";
  }
  std::vector<std::string> data, control;
  for (const Edge* e : node.in_edges())
    (e->IsControlEdge() ? control : data).push_back(InputName(e));
  std::sort(control.begin(), control.end());
  std::vector<std::string> attrs;
  for (const auto& [name, value] : node.def().attr()) {
    attrs.push_back(absl::StrCat(name, "=", value.SerializeAsString()));
  }
  std::sort(attrs.begin(), attrs.end());
  return absl::StrCat(op, "|", DeviceOf(node), "|", absl::StrJoin(data, ","), "|",
                      absl::StrJoin(control, ","), "|", absl::StrJoin(attrs, ";"));
}

class CommonSubexpressionPass : public GraphPass {
 public:
  const char* name() const override { return "common_subexpression_elimination"; }

  absl::Status Run(const PassContext& ctx, Graph* graph) override {
    absl::flat_hash_map<std::string, Node*> canonical;
    // In topological order a node's inputs are already canonical, so duplicates of
    // duplicates are found in one sweep.
    for (int id : TopologicalIds(*graph)) {
      Node* node = graph->node(id);
      const std::string key = Key(*node);
      if (key.empty()) continue;
      auto [it, inserted] = canonical.emplace(key, node);
      if (inserted || ctx.keep.contains(node->name())) continue;
      RETURN_IF_ERROR(MoveReaders(graph, node, it->second));
      graph->RemoveNode(node);
    }
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeCommonSubexpressionPass() {
  return std::make_unique<CommonSubexpressionPass>();
}

}  // namespace runnel
