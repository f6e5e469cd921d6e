// Optimizes a whole frozen graph for inference, outside any session (runnel-inspect
// --optimize): the passes of runtime/passes/optimizer.h at `level`, the graph's inputs and
// outputs (runtime/model_signature.h) keeping their names, constants folded on a host
// device made by the CPU device factory for the purpose.
#pragma once

#include "absl/status/statusor.h"
#include "core/proto/graph.pb.h"

namespace runnel {

absl::StatusOr<GraphDef> OptimizeFrozenGraph(int level, GraphDef graph);

}  // namespace runnel
