// The distributed master: a session over a cluster's tasks, living in the client. It asks
// the target server for the cluster, lists every task's devices (their incarnations
// included), places the graph over all of them, cuts it by device and registers each
// task's partitions with that task once per run signature; a run then only sends each
// task RunGraph (the client's feeds go to, and fetches come from, the tasks holding the
// _Arg/_Retval nodes, normally the target's) and waits for them all.
//
// The first failure of a step aborts the step on every task. A task that does not answer
// fails the run with UnavailableError naming it within peer_timeout_ms; the next run
// lists the devices again, and a task that restarted (new incarnations) gets its graphs
// registered anew.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/graph.h"
#include "distributed/transport.h"
#include "runtime/device.h"
#include "runtime/graph_preparer.h"
#include "runtime/session.h"
#include "runtime/session_options.h"

namespace runnel {

class MasterSession final : public Session {
 public:
  // `target`: "runnel://host:port" of any task of the cluster.
  static absl::StatusOr<std::unique_ptr<MasterSession>> Create(
      std::shared_ptr<Graph> graph, const std::string& target, const SessionOptions& options,
      const TransportOptions& transport = {});
  ~MasterSession() override;

  absl::Status PrepareRun(const std::vector<std::string>& feeds,
                          const std::vector<std::string>& fetches,
                          const std::vector<std::string>& targets) override;
  absl::Status Run(const RunOptions& options,
                   const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs, RunMetadata* metadata) override;
  const DeviceSet& devices() const override { return *devices_; }
  void Close() override;

 private:
  struct Task {
    std::string name;      // "/job:ps/replica:0/task:0"
    std::string endpoint;  // "tcp://host:port"
  };
  // One task's share of a prepared signature.
  struct TaskPart {
    Task task;  // a copy: listing devices again may replace tasks_ meanwhile
    std::string graph_handle;
    std::vector<int> arg_index, retval_index;
  };
  struct PreparedStep {
    PreparedGraph graph;  // feed specs (the partitions went to the tasks)
    std::vector<TaskPart> parts;
    std::vector<GraphDef> partition_graphs;  // for RunMetadata, without large constants
    // How long its runs wait for their answers: a running mean, 0 before the first run.
    std::atomic<int64_t> wait_ns{0};
  };
  using Call = std::pair<Task, Message>;  // (to whom, what)

  MasterSession(std::shared_ptr<Graph> graph, const SessionOptions& options)
      : options_(options), graph_(std::move(graph)) {}
  // Lists the tasks and their devices into tasks_ and devices_; with `wait`, waits for
  // tasks still starting (up to a minute) rather than failing at once.
  absl::Status Discover(bool wait);
  absl::StatusOr<std::shared_ptr<PreparedStep>> Prepare(const StepSignature& signature);
  // Calls the task's worker directly when it is in this process, else through the transport.
  void CallTask(const Task& task, Message request, Transport::ResponseCallback done,
                absl::Duration timeout);
  // Sends each request and waits for every answer or `timeout`, awake for up to `spin`
  // before it sleeps; `on_error` runs once, at the first failure, before this returns.
  std::vector<absl::StatusOr<Message>> CallAll(std::vector<Call> calls, absl::Duration timeout,
                                               const std::function<void(absl::Status)>& on_error,
                                               absl::Duration spin = absl::ZeroDuration());
  // How long a run of `step` waits awake for its answers; why and when: at its definition.
  absl::Duration SpinFor(const PreparedStep& step) const;
  // Ends a step on `tasks` without waiting: at once with CleanupStep aborting it when
  // `status` is an error, else with the next RunGraph to each task (ended_steps_).
  void EndStep(uint64_t step_id, const absl::Status& status, const std::vector<Task>& tasks);
  // CleanupStep to `task` without waiting for the answer; an error in `abort` aborts first.
  void SendCleanupStep(const Task& task, uint64_t step_id, const absl::Status& abort);
  void Deregister(const PreparedStep& step);
  void DeregisterAll();
  // CleanupStep for the steps in ended_steps_ (closing).
  void FlushEndedSteps();
  absl::Duration PeerTimeout() const;

  SessionOptions options_;
  std::shared_ptr<Graph> graph_;
  std::shared_ptr<Transport> transport_;  // its own, or its target server's
  std::unique_ptr<ThreadPool> fold_pool_;
  std::unique_ptr<Device> fold_device_;  // constants fold here, in the client

  std::mutex mu_;  // guards everything below and graph growth
  std::string target_endpoint_;
  std::vector<Task> tasks_;  // the target first
  std::unique_ptr<DeviceSet> devices_;
  std::unique_ptr<GraphPreparer> preparer_;
  // Shared with the runs using them, so listing devices again may drop them meanwhile.
  std::map<std::string, std::shared_ptr<PreparedStep>> prepared_;
  bool stale_ = false;  // a task failed: list devices again before the next run
  bool closed_ = false;
  std::set<uint64_t> in_flight_;  // steps running now
  std::condition_variable idle_cv_;
  std::mt19937_64 step_ids_{std::random_device{}()};
  std::atomic<bool> spinning_{false};  // a run waits awake: the others sleep

  // Steps that ended well, by task endpoint, for the task's next RunGraph to clean up.
  struct EndedSteps {
    Task task;
    std::vector<uint64_t> step_ids;
  };
  std::mutex ended_mu_;  // guards ended_steps_; taken with mu_ held, never the reverse
  std::map<std::string, EndedSteps> ended_steps_;
};

}  // namespace runnel
