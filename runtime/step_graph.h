// Builds the graph one run signature executes: only the nodes the fetches and targets
// need, with each fed tensor replaced by an _Arg node and each fetch read by a _Retval
// node. Feeds cut the graph: what only feeds need is pruned away.
#pragma once

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

// Errors name the missing feed, fetch or target.
absl::StatusOr<GraphDef> BuildStepGraph(const Graph& graph, const StepSignature& sig);

}  // namespace runnel
