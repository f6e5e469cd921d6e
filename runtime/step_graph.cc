#include "runtime/step_graph.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace runnel {
namespace {

absl::StatusOr<GraphTensor> ResolveTensor(const Graph& graph, const std::string& name,
                                          const char* role) {
  auto id = ParseTensorName(name);
  if (!id.ok() || id->port == kControlSlot) {
    return absl::InvalidArgumentError(absl::StrCat(role, " '", name, "' is not a tensor name"));
  }
  const Node* node = graph.FindNode(id->node);
  if (node == nullptr) {
    return absl::NotFoundError(
        absl::StrCat(role, " '", name, "': the graph has no node named '", id->node, "'"));
  }
  if (id->port >= node->num_outputs()) {
    return absl::NotFoundError(absl::StrCat(role, " '", name, "': node '", id->node, "' (",
                                            node->type_string(), ") has ", node->num_outputs(),
                                            " output", node->num_outputs() == 1 ? "" : "s"));
  }
  return GraphTensor{node, id->port};
}

std::string TensorKey(const Node* node, int port) { return absl::StrCat(node->name(), ":", port); }

}  // namespace

absl::StatusOr<ResolvedSignature> ResolveSignature(const Graph& graph, const StepSignature& sig) {
  ResolvedSignature resolved;
  absl::flat_hash_set<std::string> fed;
  for (const std::string& name : sig.feeds) {
    ASSIGN_OR_RETURN(GraphTensor tensor, ResolveTensor(graph, name, "feed"));
    if (!fed.insert(TensorKey(tensor.node, tensor.port)).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("tensor '", TensorKey(tensor.node, tensor.port), "' is fed twice"));
    }
    resolved.feeds.push_back(tensor);
  }
  for (const std::string& name : sig.fetches) {
    ASSIGN_OR_RETURN(GraphTensor tensor, ResolveTensor(graph, name, "fetch"));
    resolved.fetches.push_back(tensor);
  }
  for (const std::string& name : sig.targets) {
    const Node* node = graph.FindNode(name);
    if (node == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("target '", name, "': the graph has no node named '", name, "'"));
    }
    resolved.targets.push_back(node);
  }
  return resolved;
}

absl::StatusOr<StepGraph> BuildStepGraph(const Graph& graph, const ResolvedSignature& sig) {
  auto out = std::make_unique<Graph>(GraphBuildOptions{/*infer_shapes=*/false});
  std::vector<int> origin;
  // Fed tensor "node:port" -> its _Arg node.
  absl::flat_hash_map<std::string, const Node*> fed;
  for (size_t i = 0; i < sig.feeds.size(); ++i) {
    const auto [node, port] = sig.feeds[i];
    NodeDef arg;
    arg.set_name(absl::StrCat("_arg_", node->name(), "_", port, "_", i));
    arg.set_op("_Arg");
    (*arg.mutable_attr())["T"] = MakeAttr(BaseType(node->output_type(port)));
    (*arg.mutable_attr())["index"] = MakeAttr(static_cast<int64_t>(i));
    ASSIGN_OR_RETURN(fed[TensorKey(node, port)], out->AddNode(std::move(arg)));
    origin.push_back(-1);
  }

  // Walk back from fetches and targets; a fed tensor's producer is not needed for it.
  std::vector<bool> keep(graph.num_node_ids(), false);
  std::vector<const Node*> stack;
  auto visit = [&](const Node* n) {
    if (!keep[n->id()]) {
      keep[n->id()] = true;
      stack.push_back(n);
    }
  };
  // A node whose output is fed is replaced by that output's _Arg, control edges included
  // (as TensorFlow replaces it by a _Recv of the same name).
  absl::flat_hash_map<std::string, const Node*> fed_nodes;
  for (const auto& [key, arg] : fed) fed_nodes.emplace(key.substr(0, key.rfind(':')), arg);
  for (const auto& [node, port] : sig.fetches) {
    if (!fed.contains(TensorKey(node, port))) visit(node);
  }
  for (const Node* node : sig.targets) visit(node);
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    for (const Edge* e : n->in_edges()) {
      if (e->IsControlEdge() ? fed_nodes.contains(e->src->name())
                             : fed.contains(TensorKey(e->src, e->src_output))) {
        continue;
      }
      visit(e->src);
    }
  }

  // The session graph's ids are in topological order (it only grows), so every node's
  // inputs are in the step graph before it. Large constants are attached, not copied.
  for (const Node* node : graph.nodes()) {
    if (!keep[node->id()]) continue;
    std::optional<Tensor> value;
    NodeDef def = node->DefForCopy(&value);
    def.clear_input();
    for (const Edge* e : node->in_edges()) {
      if (e->IsControlEdge()) {
        auto it = fed_nodes.find(e->src->name());
        def.add_input("^" + (it != fed_nodes.end() ? it->second->name() : e->src->name()));
        continue;
      }
      auto it = fed.find(TensorKey(e->src, e->src_output));
      def.add_input(it != fed.end() ? it->second->name()
                                    : TensorId{e->src->name(), e->src_output}.ToString());
    }
    RETURN_IF_ERROR(out->AddNode(std::move(def)).status());
    origin.push_back(node->id());
    if (value) RETURN_IF_ERROR(out->AttachConstantValue(node->name(), *std::move(value)));
  }
  for (size_t j = 0; j < sig.fetches.size(); ++j) {
    const auto [node, port] = sig.fetches[j];
    auto it = fed.find(TensorKey(node, port));
    NodeDef ret;
    ret.set_name(absl::StrCat("_retval_", node->name(), "_", port, "_", j));
    ret.set_op("_Retval");
    ret.add_input(it != fed.end() ? it->second->name() : TensorId{node->name(), port}.ToString());
    (*ret.mutable_attr())["T"] = MakeAttr(BaseType(node->output_type(port)));
    (*ret.mutable_attr())["index"] = MakeAttr(static_cast<int64_t>(j));
    RETURN_IF_ERROR(out->AddNode(std::move(ret)).status());
    origin.push_back(-1);
  }
  return StepGraph{std::move(out), std::move(origin)};
}

}  // namespace runnel
