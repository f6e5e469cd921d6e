#include "runtime/direct_session.h"

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "runtime/local_rendezvous.h"

namespace runnel {

absl::StatusOr<std::unique_ptr<DirectSession>> DirectSession::Create(
    const GraphDef& graph_def, const SessionOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph, Graph::FromGraphDef(graph_def));
  return Create(std::shared_ptr<Graph>(std::move(graph)), options);
}

absl::StatusOr<std::unique_ptr<DirectSession>> DirectSession::Create(
    std::shared_ptr<Graph> graph, const SessionOptions& options,
    std::shared_ptr<LocalDevices> devices) {
  RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<DirectSession> session(new DirectSession(std::move(graph), options));
  RETURN_IF_ERROR(session->Init(std::move(devices)));
  return session;
}

DirectSession::DirectSession(std::shared_ptr<Graph> graph, const SessionOptions& options)
    : options_(options), graph_(std::move(graph)) {}

DirectSession::~DirectSession() {
  // Executors reference devices; drop them first.
  for (const auto& [signature, step] : prepared_) {
    for (PartitionRunner::Handle h : step->partitions) runner_.Deregister(h);
  }
}

absl::Status DirectSession::Init(std::shared_ptr<LocalDevices> devices) {
  if (devices == nullptr) {
    ASSIGN_OR_RETURN(devices, LocalDevices::Create(options_));
  }
  local_devices_ = std::move(devices);
  devices_ = &local_devices_->devices();
  Device* fold_device = nullptr;  // constants fold on the first CPU device
  for (const auto& device : devices_->devices()) {
    if (device->device_type() == "CPU") {
      fold_device = device.get();
      break;
    }
  }
  preparer_ = std::make_unique<GraphPreparer>(options_, devices_, fold_device);
  int inter = static_cast<int>(options_.GetInt("inter_op_parallelism_threads"));
  if (inter <= 0) inter = NumSchedulableCpus();
  // The devices' compute pool also runs independent nodes unless asked otherwise, so the
  // cores are never oversubscribed by two pools competing.
  if (inter != local_devices_->compute_pool()->NumThreads()) {
    inter_op_pool_ = std::make_unique<WorkerThreadPool>("inter_op", inter);
  }
  return absl::OkStatus();
}

absl::Status DirectSession::Extend(const GraphDef& graph_def) {
  std::lock_guard<std::mutex> lock(mu_);
  return graph_->Extend(graph_def);
}

void DirectSession::Close() {
  closing_.StartCancel(absl::CancelledError("the session was closed"));
}

size_t DirectSession::num_cached_signatures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return prepared_.size();
}

absl::StatusOr<DirectSession::PreparedStep*> DirectSession::Prepare(
    const std::vector<std::string>& feeds, const std::vector<std::string>& fetches,
    const std::vector<std::string>& targets) {
  const StepSignature signature{feeds, fetches, targets};
  const std::string key = SignatureKey(signature);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = prepared_.find(key);
  if (it != prepared_.end()) return it->second.get();

  auto step = std::make_unique<PreparedStep>();
  ASSIGN_OR_RETURN(step->graph, preparer_->Prepare(*graph_, signature));
  for (auto& [device_name, part] : step->graph.partitions) {
    Device* device = devices_->Find(device_name);
    auto handle = runner_.Register(std::move(part), device);
    if (!handle.ok()) {
      for (PartitionRunner::Handle h : step->partitions) runner_.Deregister(h);
      return handle.status();
    }
    step->partitions.push_back(*handle);
  }
  step->graph.partitions.clear();
  PreparedStep* raw = step.get();
  prepared_[key] = std::move(step);
  return raw;
}

absl::Status DirectSession::PrepareRun(const std::vector<std::string>& feeds,
                                       const std::vector<std::string>& fetches,
                                       const std::vector<std::string>& targets) {
  return Prepare(feeds, fetches, targets).status();
}

absl::Status DirectSession::Run(const RunOptions& options,
                                const std::vector<std::pair<std::string, Tensor>>& feeds,
                                const std::vector<std::string>& fetches,
                                const std::vector<std::string>& targets,
                                std::vector<Tensor>* outputs, RunMetadata* metadata) {
  StepStatsCollector stats;
  const bool trace = options.trace_level() != RunOptions::NO_TRACE;
  RETURN_IF_ERROR(Run(feeds, fetches, targets, outputs, trace ? &stats : nullptr));
  if (metadata == nullptr) return absl::OkStatus();
  if (trace) *metadata->mutable_step_stats() = ToStepStats(stats.Take());
  if (options.output_partition_graphs()) {
    std::vector<std::string> feed_names;
    for (const auto& feed : feeds) feed_names.push_back(feed.first);
    ASSIGN_OR_RETURN(PreparedStep * step, Prepare(feed_names, fetches, targets));  // cached
    for (PartitionRunner::Handle h : step->partitions) {
      runner_.executor(h).graph().ToGraphDef(metadata->add_partition_graphs(),
                                             /*attached_values=*/false);
    }
  }
  return absl::OkStatus();
}

absl::Status DirectSession::Run(const std::vector<std::pair<std::string, Tensor>>& feeds,
                                const std::vector<std::string>& fetches,
                                const std::vector<std::string>& targets,
                                std::vector<Tensor>* outputs, StepStatsCollector* stats) {
  std::vector<std::string> feed_names;
  std::vector<Tensor> args;
  for (const auto& [name, value] : feeds) {
    feed_names.push_back(name);
    args.push_back(value);
  }
  ASSIGN_OR_RETURN(PreparedStep * step, Prepare(feed_names, fetches, targets));
  RETURN_IF_ERROR(CheckFeeds(step->graph, feeds));

  CallFrame frame(std::move(args), static_cast<int>(fetches.size()));
  LocalRendezvous rendezvous;
  ExecutorArgs exec_args;
  exec_args.step_id = next_step_id_.fetch_add(1);
  exec_args.rendezvous = &rendezvous;
  exec_args.call_frame = &frame;
  exec_args.inter_op_pool = inter_op_pool_ ? inter_op_pool_.get() : local_devices_->compute_pool();
  exec_args.stats = stats;
  // Closing the session cancels the step (a dequeue waiting for ever wakes).
  CancellationManager step_cancellation;
  CancellationManager::Token token;
  if (!closing_.Register(&token,
                         [&](const absl::Status& s) { step_cancellation.StartCancel(s); })) {
    return absl::CancelledError("the session is closed");
  }
  exec_args.cancellation = &step_cancellation;

  // All partitions run at once; tensors meet in the rendezvous.
  absl::Status status = runner_.RunStep(step->partitions, exec_args);
  closing_.Deregister(token);
  RETURN_IF_ERROR(status);
  *outputs = std::move(frame.retvals());
  return absl::OkStatus();
}

}  // namespace runnel
