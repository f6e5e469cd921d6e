// Builds the graph one run signature executes: only the nodes the fetches and targets
// need, with each fed tensor replaced by an _Arg node and each fetch read by a _Retval
// node. Feeds cut the graph: what only feeds need is pruned away.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/graph.h"

namespace runnel {

struct StepSignature {
  std::vector<std::string> feeds;    // tensor names, "x:0"
  std::vector<std::string> fetches;  // tensor names
  std::vector<std::string> targets;  // node names
};

struct GraphTensor {
  const Node* node;
  int port;
};

// A signature's names found in the graph.
struct ResolvedSignature {
  std::vector<GraphTensor> feeds;
  std::vector<GraphTensor> fetches;
  std::vector<const Node*> targets;
};

// Errors name the feed, fetch or target that is missing (or fed twice) and what the graph
// has instead.
absl::StatusOr<ResolvedSignature> ResolveSignature(const Graph& graph, const StepSignature& sig);

struct StepGraph {
  std::unique_ptr<Graph> graph;  // shapes not inferred: the passes that read them do
  // By step-graph node id: the id of the node it copies in the session graph, -1 for the
  // _Arg and _Retval nodes (and for nodes the passes add later, beyond the end).
  std::vector<int> origin;
};

absl::StatusOr<StepGraph> BuildStepGraph(const Graph& graph, const ResolvedSignature& sig);

}  // namespace runnel
