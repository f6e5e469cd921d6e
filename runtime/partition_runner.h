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

  // A session's kernel for `node` on `device`: a stateful node (a variable) is one kernel
  // in the device's ResourceManager under its shared_name (else its name), shared by every
  // executor there; every other node
  // (the runtime's own _Send, _Recv, _Arg included) gets its own.
  static absl::StatusOr<std::shared_ptr<OpKernel>> CreateKernel(const Node& node, Device* device);

  // Builds `graph`'s executor on `device` with CreateKernel's kernels.
  absl::StatusOr<Handle> Register(std::unique_ptr<Graph> graph, Device* device);
  void Deregister(Handle handle);
  const Executor& executor(Handle handle) const;

  // Runs the partitions `handles` of one step at once with `args` (step id, rendezvous,
  // call frame, pools, stats). Its cancellation manager is the step's own unless `args`
  // brings one. Returns the first failure.
  absl::Status RunStep(const std::vector<Handle>& handles, ExecutorArgs args) const;
  // The same without waiting: `done` runs once, with the first failure, after every
  // partition has finished. What `args` points to must live until then.
  void RunStepAsync(const std::vector<Handle>& handles, ExecutorArgs args,
                    Executor::DoneCallback done) const;

 private:
  mutable std::mutex mu_;
  std::map<Handle, std::shared_ptr<Executor>> executors_;  // held by running steps too
  Handle next_ = 0;
};

}  // namespace runnel
