// What a frozen graph takes and gives, found from its structure: inputs are its
// placeholders; outputs are the nodes nothing reads, except those that only hold or
// change state (Const, NoOp, Assign, variables, savers). Shared by the C++ inference API,
// runnel-run and runnel-inspect, so all three agree. Works on graphs with unknown ops.
#pragma once

#include <string>
#include <vector>

#include "core/proto/graph.pb.h"

namespace runnel {

std::vector<std::string> InputNodes(const GraphDef& graph);
std::vector<std::string> OutputNodes(const GraphDef& graph);

}  // namespace runnel
