#include "runtime/graph_preparer.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"
#include "runtime/partition.h"
#include "runtime/passes/optimizer.h"
#include "runtime/placer.h"

namespace runnel {

absl::StatusOr<PreparedGraph> GraphPreparer::Prepare(const Graph& graph,
                                                     const StepSignature& signature) {
  PreparedGraph prepared;
  ASSIGN_OR_RETURN(ResolvedSignature resolved, ResolveSignature(graph, signature));
  for (const auto& [node, port] : resolved.feeds) {
    // A placeholder's inferred shape is its `shape` attr.
    prepared.feed_specs.emplace_back(BaseType(node->output_type(port)), node->output_shape(port));
    prepared.feed_names.push_back(port == 0 ? node->name() : absl::StrCat(node->name(), ":", port));
  }
  ASSIGN_OR_RETURN(StepGraph built, BuildStepGraph(graph, resolved));
  std::unique_ptr<Graph> step_graph = std::move(built.graph);
  // Placed before the passes, which then keep each node's device and fuse only where the
  // device has the fused kernel; what the passes add is placed after them.
  RETURN_IF_ERROR(Place(graph, step_graph.get(), built.origin));
  RETURN_IF_ERROR(Optimize(signature.targets, step_graph.get()));
  RETURN_IF_ERROR(Place(graph, step_graph.get(), built.origin));
  if (options_.GetBool("log_device_placement")) {
    for (const Node* node : step_graph->nodes()) {
      std::fprintf(stderr, "%s: (%s): %s\n", node->name().c_str(), node->type_string().c_str(),
                   node->assigned_device().c_str());
    }
  }
  ASSIGN_OR_RETURN(prepared.partitions, PartitionGraph(std::move(step_graph), *devices_));
  return prepared;
}

absl::Status GraphPreparer::Place(const Graph& graph, Graph* step_graph,
                                  const std::vector<int>& origin) {
  // The session's nodes keep the devices an earlier signature gave them: a variable never
  // moves between two runs.
  if (placed_.size() < static_cast<size_t>(graph.num_node_ids())) {
    placed_.resize(graph.num_node_ids());
  }
  auto session_id = [&](const Node* node) {
    return node->id() < static_cast<int>(origin.size()) ? origin[node->id()] : -1;
  };
  std::vector<Node*> unplaced;
  for (Node* node : step_graph->nodes()) {
    if (!node->assigned_device().empty()) continue;
    const int id = session_id(node);
    if (id >= 0 && !placed_[id].empty()) {
      node->set_assigned_device(placed_[id]);
    } else {
      unplaced.push_back(node);
    }
  }
  if (unplaced.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(PlaceGraph(step_graph, *devices_, options_.GetBool("allow_soft_placement")));
  for (const Node* node : unplaced) {
    const int id = session_id(node);
    if (id >= 0) placed_[id] = node->assigned_device();
  }
  return absl::OkStatus();
}

absl::Status GraphPreparer::Optimize(const std::vector<std::string>& targets,
                                     Graph* step_graph) const {
  const int level = static_cast<int>(options_.GetInt("graph_optimization_level"));
  if (level == 0) return absl::OkStatus();
  PassContext ctx;
  ctx.keep.insert(targets.begin(), targets.end());
  for (const Node* node : step_graph->nodes()) {
    if (node->type_string() == "_Arg" || node->type_string() == "_Retval") {
      ctx.keep.insert(node->name());
    }
  }
  if (fold_device_ != nullptr) ctx.evaluate = ComputeOnceOn(fold_device_);
  return OptimizeGraph(level, ctx, step_graph);
}

absl::Status CheckFeeds(const PreparedGraph& prepared,
                        const std::vector<std::pair<std::string, Tensor>>& feeds) {
  for (size_t i = 0; i < feeds.size(); ++i) {
    const auto& [dtype, shape] = prepared.feed_specs[i];
    const auto& [name, value] = feeds[i];
    if (value.dtype() != dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("feed for '", name, "' has dtype ", DataTypeString(value.dtype()), ", but '",
                       prepared.feed_names[i], "' expects ", DataTypeString(dtype)));
    }
    // The leading dim is the batch: frozen graphs often pin it (e.g. [100,784]) while
    // serving any batch size, so only the rank and the other dims must match.
    PartialShape expected = shape;
    if (expected.rank() > 0) expected.set_dim(0, PartialShape::kUnknownDim);
    if (!expected.IsCompatibleWith(PartialShape(value.shape()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("feed for '", name, "' has shape ", value.shape().DebugString(), ", but '",
                       prepared.feed_names[i], "' has shape ", shape.DebugString()));
    }
  }
  return absl::OkStatus();
}

std::string SignatureKey(const StepSignature& signature) {
  return absl::StrCat(absl::StrJoin(signature.feeds, ","), "|",
                      absl::StrJoin(signature.fetches, ","), "|",
                      absl::StrJoin(signature.targets, ","));
}

}  // namespace runnel
