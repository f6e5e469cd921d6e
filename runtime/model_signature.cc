#include "runtime/model_signature.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "core/graph.h"

namespace runnel {

std::vector<std::string> InputNodes(const GraphDef& graph) {
  std::vector<std::string> inputs;
  for (const NodeDef& node : graph.node()) {
    if (node.op() == "Placeholder") inputs.push_back(node.name());
  }
  return inputs;
}

std::vector<std::string> OutputNodes(const GraphDef& graph) {
  absl::flat_hash_set<std::string> read;
  for (const NodeDef& node : graph.node()) {
    for (const std::string& input : node.input()) {
      auto id = ParseTensorName(input);
      if (id.ok()) read.insert(id->node);
    }
  }
  std::vector<std::string> outputs;
  for (const NodeDef& node : graph.node()) {
    const std::string& op = node.op();
    const bool state = op == "Const" || op == "NoOp" || absl::StartsWith(op, "Assign") ||
                       absl::StrContains(op, "Variable") || absl::StartsWith(op, "Save") ||
                       absl::StartsWith(op, "Restore") || op == "Placeholder";
    if (!state && !read.contains(node.name())) outputs.push_back(node.name());
  }
  return outputs;
}

}  // namespace runnel
