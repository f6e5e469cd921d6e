// DirectSession runs a graph in this process. Run() prunes the graph to what the fetches
// and targets need, optimizes it (runtime/passes/), places it, cuts it into per-device
// partitions joined by _Send/_Recv, and builds one executor per partition; all of that is
// cached by the run signature (feeds, fetches, targets), so a repeated Run only executes.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/graph.h"
#include "core/proto/config.pb.h"
#include "runtime/device.h"
#include "runtime/executor.h"
#include "runtime/graph_preparer.h"
#include "runtime/partition_runner.h"
#include "runtime/session.h"
#include "runtime/session_options.h"
#include "runtime/threadpool.h"

namespace runnel {

class DirectSession final : public Session {
 public:
  static absl::StatusOr<std::unique_ptr<DirectSession>> Create(
      const GraphDef& graph_def, const SessionOptions& options = SessionOptions());
  // Runs against `graph`, which may keep growing between runs (the Python frontend). With
  // `devices`, the session runs on those (and shares their variables with every other
  // session given them) instead of making its own from the options.
  static absl::StatusOr<std::unique_ptr<DirectSession>> Create(
      std::shared_ptr<Graph> graph, const SessionOptions& options = SessionOptions(),
      std::shared_ptr<LocalDevices> devices = nullptr);
  ~DirectSession() override;

  // Adds nodes to the session's graph; cached executors stay valid.
  absl::Status Extend(const GraphDef& graph_def);

  // Feeds are (tensor name, value); fetches are tensor names ("x:0" or "x"); targets are
  // node names run for their effects. Safe to call from several threads at once.
  // With `stats`, every node's kernel time and shapes are recorded there.
  absl::Status Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs, StepStatsCollector* stats = nullptr);

  // The same, traced as `options` asks: its trace_level fills metadata->step_stats (every
  // node, _Send and _Recv included, by device), output_partition_graphs
  // metadata->partition_graphs (placed; large constants' contents left out).
  absl::Status Run(const RunOptions& options,
                   const std::vector<std::pair<std::string, Tensor>>& feeds,
                   const std::vector<std::string>& fetches, const std::vector<std::string>& targets,
                   std::vector<Tensor>* outputs, RunMetadata* metadata) override;

  // Prepares (and caches) what Run needs for this signature without running it: pays the
  // set-up cost ahead of time. The only step that reads the graph.
  absl::Status PrepareRun(const std::vector<std::string>& feeds,
                          const std::vector<std::string>& fetches,
                          const std::vector<std::string>& targets) override;

  const DeviceSet& devices() const override { return *devices_; }
  // Cancels the runs in flight; later runs fail.
  void Close() override;
  const std::shared_ptr<LocalDevices>& local_devices() const { return local_devices_; }
  const Graph& graph() const { return *graph_; }
  // The number of prepared signatures held.
  size_t num_cached_signatures() const;

 private:
  struct PreparedStep {
    std::vector<PartitionRunner::Handle> partitions;  // in runner_
    PreparedGraph graph;                              // its partitions moved into runner_
  };

  DirectSession(std::shared_ptr<Graph> graph, const SessionOptions& options);
  absl::Status Init(std::shared_ptr<LocalDevices> devices);
  absl::StatusOr<PreparedStep*> Prepare(const std::vector<std::string>& feeds,
                                        const std::vector<std::string>& fetches,
                                        const std::vector<std::string>& targets);

  SessionOptions options_;
  std::shared_ptr<Graph> graph_;
  std::shared_ptr<LocalDevices> local_devices_;
  std::unique_ptr<WorkerThreadPool> inter_op_pool_;  // null when it is the compute pool
  const DeviceSet* devices_ = nullptr;               // local_devices_'s
  PartitionRunner runner_;

  mutable std::mutex mu_;  // guards the preparer, the map below and graph growth
  std::unique_ptr<GraphPreparer> preparer_;
  std::map<std::string, std::unique_ptr<PreparedStep>> prepared_;
  std::atomic<int64_t> next_step_id_{1};
  CancellationManager closing_;  // cancelled by Close: every step's manager follows
};

}  // namespace runnel
