#include "runtime/frozen_graph_optimizer.h"

#include "runtime/device.h"
#include "runtime/model_signature.h"
#include "runtime/passes/optimizer.h"
#include "runtime/threadpool.h"

namespace runnel {

absl::Status OptimizeFrozenGraph(int level, GraphDef* graph) {
  PassContext ctx;
  for (const std::string& name : InputNodes(*graph)) ctx.keep.insert(name);
  for (const std::string& name : OutputNodes(*graph)) ctx.keep.insert(name);
  WorkerThreadPool pool("fold_constants", 1);
  ASSIGN_OR_RETURN(std::unique_ptr<Device> device, CreateHostDevice(&pool));
  ctx.evaluate = ComputeOnceOn(device.get());
  return OptimizeGraph(level, ctx, graph);
}

}  // namespace runnel
