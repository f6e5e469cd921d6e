#include "runtime/partition_runner.h"

#include <condition_variable>

#include "core/status.h"

namespace runnel {

absl::StatusOr<PartitionRunner::Handle> PartitionRunner::Register(
    std::unique_ptr<Graph> graph, Device* device, const Executor::KernelCreator& create_kernel) {
  ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor,
                   Executor::Create(std::move(graph), device, create_kernel));
  std::lock_guard<std::mutex> lock(mu_);
  const Handle handle = next_++;
  executors_[handle] = std::move(executor);
  return handle;
}

void PartitionRunner::Deregister(Handle handle) {
  std::unique_ptr<Executor> executor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = executors_.find(handle);
    if (it == executors_.end()) return;
    executor = std::move(it->second);
    executors_.erase(it);
  }  // destroyed outside the lock
}

const Executor& PartitionRunner::executor(Handle handle) const {
  std::lock_guard<std::mutex> lock(mu_);
  return *executors_.at(handle);
}

absl::Status PartitionRunner::RunStep(const std::vector<Handle>& handles, ExecutorArgs args) const {
  std::vector<const Executor*> executors;
  for (Handle h : handles) executors.push_back(&executor(h));
  if (executors.size() == 1 && args.cancellation == nullptr) return executors[0]->Run(args);
  CancellationManager step_cancellation;
  if (args.cancellation == nullptr) args.cancellation = &step_cancellation;
  std::mutex mu;
  std::condition_variable cv;
  size_t remaining = executors.size();
  absl::Status status;
  auto done = [&](absl::Status s) {
    if (!s.ok()) {
      // The first failure wins; the others stop (their status is that same failure).
      args.cancellation->StartCancel(s);
      if (args.rendezvous != nullptr) args.rendezvous->StartAbort(s);
    }
    std::lock_guard<std::mutex> lock(mu);
    if (status.ok() && !s.ok()) status = s;
    if (--remaining == 0) cv.notify_all();
  };
  // Each partition starts on its own thread (the last on this one): a partition runs its
  // ready nodes inline, so starting them one after another would run them in turn.
  for (size_t i = 0; i < executors.size(); ++i) {
    const Executor* executor = executors[i];
    if (i + 1 < executors.size() && args.inter_op_pool != nullptr) {
      args.inter_op_pool->Schedule([executor, &args, &done] { executor->RunAsync(args, done); });
    } else {
      executor->RunAsync(args, done);
    }
  }
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return remaining == 0; });
  return status;
}

}  // namespace runnel
