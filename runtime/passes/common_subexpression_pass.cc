// common_subexpression_elimination: nodes computing the same op with the same attributes
// from the same inputs on the same device become one; readers of the others read it.
// Stateful nodes, feeds and nodes without inputs (other than small constants) stay apart.
#include <algorithm>

#include "absl/strings/str_join.h"
#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

constexpr size_t kMaxConstBytes = 64 << 10;  // larger constants are not compared

// The node's identity: op, device, data inputs in order, control inputs as a set, attrs.
// Empty when the node must not be merged.
std::string Key(const NodeDef& node) {
  if (IsStateful(node)) return "";
  if (node.op() == "Placeholder" || node.op() == "PlaceholderWithDefault") return "";
  if (node.op() == "Const") {
    if (node.attr().at("value").ByteSizeLong() > kMaxConstBytes) return "";
  } else if (node.input_size() == 0) {
    return "";
  }
  std::vector<std::string> data, control;
  for (const std::string& input : node.input()) {
    (input[0] == '^' ? control : data).push_back(input);
  }
  std::sort(control.begin(), control.end());
  std::vector<std::string> attrs;
  for (const auto& [name, value] : node.attr()) {
    attrs.push_back(absl::StrCat(name, "=", value.SerializeAsString()));
  }
  std::sort(attrs.begin(), attrs.end());
  return absl::StrCat(node.op(), "|", node.device(), "|", absl::StrJoin(data, ","), "|",
                      absl::StrJoin(control, ","), "|", absl::StrJoin(attrs, ";"));
}

class CommonSubexpressionPass : public GraphPass {
 public:
  const char* name() const override { return "common_subexpression_elimination"; }

  absl::Status Run(const PassContext& ctx, GraphDef* graph) override {
    GraphIndex index(graph);
    absl::flat_hash_map<std::string, std::string> canonical;  // key -> node name
    // In topological order a node's inputs are already canonical, so duplicates of
    // duplicates are found in one sweep.
    for (const std::string& name : index.TopologicalOrder()) {
      const NodeDef* node = index.Find(name);
      const std::string key = Key(*node);
      if (key.empty()) continue;
      auto [it, inserted] = canonical.emplace(key, name);
      if (inserted || ctx.keep.contains(name)) continue;
      std::vector<int> ports;
      for (const auto& [reader, i] : index.Consumers(name)) {
        ports.push_back(ParseInput(reader->input(i)).port);
      }
      std::sort(ports.begin(), ports.end());
      ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
      for (int port : ports) {
        index.Rewire(name, port, port == kControlSlot ? "^" + it->second
                                                      : InputName(it->second, port));
      }
      index.Remove(name);
    }
    index.Compact();
    return absl::OkStatus();
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeCommonSubexpressionPass() {
  return std::make_unique<CommonSubexpressionPass>();
}

}  // namespace runnel
