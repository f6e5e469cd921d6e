// The placer assigns every node a device. Nodes that must share one form a colocation group:
// `_class: loc:@other` (tf.colocate_with: a variable's slots, its initializer), and every
// edge carrying a reference (a variable's readers and update ops follow the variable). A
// group goes to a device that has kernels for all its members and matches all their
// requested devices (which must agree: the error names both nodes); a member placed
// already (by an earlier step of the session) pins its group. With soft placement, a
// group whose request matches no such device goes to the best device that has the
// kernels, and one line on stderr says so; without it, that is an error naming the node,
// the request and the devices that exist. The runtime's _Arg/_Retval stay on the host.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/graph.h"
#include "runtime/device.h"

namespace runnel {

// Assigns a device to every node of `graph` that has none; nodes with one keep it.
absl::Status PlaceGraph(Graph* graph, const DeviceSet& devices, bool allow_soft_placement);

}  // namespace runnel
