#include "runtime/partition_runner.h"

#include <condition_variable>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kernel_registry.h"
#include "core/status.h"

namespace runnel {

absl::StatusOr<std::shared_ptr<OpKernel>> PartitionRunner::CreateKernel(const Node& node,
                                                                        Device* device) {
  auto create = [&]() -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    OpKernelConstruction construction(node.def(), node.op_def(), device, node.input_types(),
                                      node.output_types());
    std::vector<bool> constant(node.num_inputs());
    for (int i = 0; i < node.num_inputs(); ++i) {
      const Edge* e = node.input_edge(i);
      constant[i] = e != nullptr && e->src->type_string() == "Const";
    }
    construction.set_constant_inputs(std::move(constant));
    // A loaded model's weights, held once by the session graph and shared from there.
    if (node.attached_value() != nullptr) construction.set_shared_value(*node.attached_value());
    return KernelRegistry::Global()->CreateKernel(&construction);
  };
  if (node.op_def().is_stateful() && !absl::StartsWith(node.type_string(), "_")) {
    std::string shared_name;
    if (!node.attrs().Get("shared_name", &shared_name).ok() || shared_name.empty()) {
      shared_name = node.name();
    }
    return device->resource_manager()->LookupOrCreate(shared_name, create);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<OpKernel> kernel, create());
  return std::shared_ptr<OpKernel>(std::move(kernel));
}

absl::StatusOr<PartitionRunner::Handle> PartitionRunner::Register(std::unique_ptr<Graph> graph,
                                                                  Device* device) {
  ASSIGN_OR_RETURN(std::unique_ptr<Executor> executor,
                   Executor::Create(std::move(graph), device, [device](const Node& node) {
                     return CreateKernel(node, device);
                   }));
  std::lock_guard<std::mutex> lock(mu_);
  const Handle handle = next_++;
  executors_[handle] = std::move(executor);
  return handle;
}

void PartitionRunner::Deregister(Handle handle) {
  std::shared_ptr<Executor> executor;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = executors_.find(handle);
    if (it == executors_.end()) return;
    executor = std::move(it->second);
    executors_.erase(it);
  }  // destroyed outside the lock, or by the last step running it
}

const Executor& PartitionRunner::executor(Handle handle) const {
  std::lock_guard<std::mutex> lock(mu_);
  return *executors_.at(handle);
}

absl::Status PartitionRunner::RunStep(const std::vector<Handle>& handles, ExecutorArgs args) const {
  if (handles.size() == 1) return executor(handles[0]).Run(args);
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  absl::Status status;
  RunStepAsync(handles, args, [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = std::move(s);
    finished = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished; });
  return status;
}

void PartitionRunner::RunStepAsync(const std::vector<Handle>& handles, ExecutorArgs args,
                                   Executor::DoneCallback done) const {
  struct Step {
    ExecutorArgs args;
    std::vector<std::shared_ptr<const Executor>> executors;  // alive until the step ends
    CancellationManager cancellation;  // the step's own, unless args bring one
    std::mutex mu;
    size_t remaining;
    absl::Status status;
    Executor::DoneCallback done;
  };
  auto step = std::make_shared<Step>();
  absl::Status found;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (Handle h : handles) {
      auto it = executors_.find(h);
      if (it == executors_.end()) {
        found = absl::InternalError(absl::StrCat("partition ", h, " is not registered"));
        break;
      }
      step->executors.push_back(it->second);
    }
  }
  if (!found.ok()) {
    done(found);
    return;
  }
  const auto& executors = step->executors;
  if (executors.empty()) {
    done(absl::OkStatus());
    return;
  }
  step->args = args;
  if (step->args.cancellation == nullptr) step->args.cancellation = &step->cancellation;
  step->remaining = executors.size();
  step->done = std::move(done);
  auto finish = [step](absl::Status s) {
    if (!s.ok()) {
      // The first failure wins; the others stop (their status is that same failure).
      step->args.cancellation->StartCancel(s);
      if (step->args.rendezvous != nullptr) step->args.rendezvous->StartAbort(s);
    }
    Executor::DoneCallback done;
    absl::Status status;
    {
      std::lock_guard<std::mutex> lock(step->mu);
      if (step->status.ok() && !s.ok()) step->status = s;
      if (--step->remaining > 0) return;
      done = std::move(step->done);
      status = step->status;
    }
    done(status);
  };
  // Each partition starts on its own thread (the last on this one): a partition runs its
  // ready nodes inline, so starting them one after another would run them in turn.
  for (size_t i = 0; i < executors.size(); ++i) {
    const Executor* executor = executors[i].get();
    if (i + 1 < executors.size() && args.inter_op_pool != nullptr) {
      args.inter_op_pool->Schedule(
          [executor, step, finish] { executor->RunAsync(step->args, finish); });
    } else {
      executor->RunAsync(step->args, finish);
    }
  }
}

}  // namespace runnel
