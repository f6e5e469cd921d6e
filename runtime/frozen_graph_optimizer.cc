#include "runtime/frozen_graph_optimizer.h"

#include "core/graph.h"
#include "core/status.h"
#include "runtime/device.h"
#include "runtime/model_signature.h"
#include "runtime/passes/optimizer.h"
#include "runtime/threadpool.h"

namespace runnel {

absl::StatusOr<GraphDef> OptimizeFrozenGraph(int level, GraphDef graph_def) {
  PassContext ctx;
  for (const std::string& name : InputNodes(graph_def)) ctx.keep.insert(name);
  for (const std::string& name : OutputNodes(graph_def)) ctx.keep.insert(name);
  ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph,
                   Graph::FromGraphDefTakingWeights(
                       std::move(graph_def),
                       GraphBuildOptions{/*infer_shapes=*/false, /*free_batch_dim=*/true}));
  WorkerThreadPool pool("fold_constants", 1);
  ASSIGN_OR_RETURN(std::unique_ptr<Device> device, CreateHostDevice(&pool));
  ctx.evaluate = ComputeOnceOn(device.get());
  RETURN_IF_ERROR(OptimizeGraph(level, ctx, graph.get()));
  GraphDef out;
  graph->ToGraphDef(&out);
  return out;
}

}  // namespace runnel
