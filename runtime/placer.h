// The placer assigns every node a device: the one it asks for when that exists and has a
// kernel for it, otherwise (with soft placement) the best device that does; nodes marked
// `_class: loc:@other` follow `other`, nodes taking a variable's reference follow the
// variable. The runtime's _Arg/_Retval stay on the host.
#pragma once

#include "absl/status/status.h"
#include "core/graph.h"
#include "runtime/device.h"

namespace runnel {

absl::Status PlaceGraph(Graph* graph, const DeviceSet& devices, bool allow_soft_placement);

}  // namespace runnel
