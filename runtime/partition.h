// Cuts a placed graph into one Graph per device. Each edge that crosses devices becomes a
// _Send in the producer's partition and a _Recv in the consumer's, keyed by tensor and both
// device names; a control edge that crosses sends a dummy scalar. A while loop split across
// devices gets a control loop of its frame on each device besides its LoopCond's, driven by
// the condition sent there each iteration (partition.cc). A graph placed on one device is
// its own partition.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/graph.h"
#include "runtime/device.h"

namespace runnel {

// Keyed by full device name. Every node must have an assigned device in `devices`.
absl::StatusOr<std::map<std::string, std::unique_ptr<Graph>>> PartitionGraph(
    std::unique_ptr<Graph> graph, const DeviceSet& devices);

}  // namespace runnel
