// Runs partition graphs: each registered graph gets its executor on its device; a step
// runs a set of them at once, joined by the step's rendezvous, under one cancellation
// manager, so the first failure stops the other partitions and aborts the rendezvous.
// DirectSession registers the partitions of each run signature here; a distributed
// worker will register the partitions a master sends it and run them the same way.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include "absl/status/statusor.h"
#include "core/graph.h"
#include "runtime/device.h"
#include "runtime/executor.h"

namespace runnel {

class PartitionRunner {
 public:
  using Handle = int64_t;

  // Builds `graph`'s executor on `device`, creating kernels with `create_kernel`.
  absl::StatusOr<Handle> Register(std::unique_ptr<Graph> graph, Device* device,
                                  const Executor::KernelCreator& create_kernel);
  void Deregister(Handle handle);
  const Executor& executor(Handle handle) const;

  // Runs the partitions `handles` of one step at once with `args` (step id, rendezvous,
  // call frame, pools, stats). Its cancellation manager is the step's own unless `args`
  // brings one. Returns the first failure.
  absl::Status RunStep(const std::vector<Handle>& handles, ExecutorArgs args) const;

 private:
  mutable std::mutex mu_;
  std::map<Handle, std::unique_ptr<Executor>> executors_;
  Handle next_ = 0;
};

}  // namespace runnel
