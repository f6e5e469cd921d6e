#include "runtime/direct_session.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kernel_registry.h"
#include "core/status.h"
#include "runtime/local_rendezvous.h"
#include "runtime/partition.h"
#include "runtime/passes/optimizer.h"
#include "runtime/placer.h"
#include "runtime/step_graph.h"

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

size_t DirectSession::num_cached_signatures() const {
  std::lock_guard<std::mutex> lock(mu_);
  return prepared_.size();
}

absl::StatusOr<std::shared_ptr<OpKernel>> DirectSession::CreateKernel(const Node& node,
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
  // A stateful node (a variable) is one kernel on its device, shared by every executor;
  // the runtime's own stateful ops (_Send, _Recv, _Arg) are per step graph.
  if (node.op_def().is_stateful() && !absl::StartsWith(node.type_string(), "_")) {
    return device->resource_manager()->LookupOrCreate(node.name(), create);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<OpKernel> kernel, create());
  return std::shared_ptr<OpKernel>(std::move(kernel));
}

absl::StatusOr<DirectSession::PreparedStep*> DirectSession::Prepare(
    const std::vector<std::string>& feeds, const std::vector<std::string>& fetches,
    const std::vector<std::string>& targets) {
  std::string signature = absl::StrCat(absl::StrJoin(feeds, ","), "|", absl::StrJoin(fetches, ","),
                                       "|", absl::StrJoin(targets, ","));
  std::lock_guard<std::mutex> lock(mu_);
  auto it = prepared_.find(signature);
  if (it != prepared_.end()) return it->second.get();

  auto step = std::make_unique<PreparedStep>();
  ASSIGN_OR_RETURN(ResolvedSignature resolved,
                   ResolveSignature(*graph_, {feeds, fetches, targets}));
  for (const auto& [node, port] : resolved.feeds) {
    // A placeholder's inferred shape is its `shape` attr.
    step->feed_specs.emplace_back(BaseType(node->output_type(port)), node->output_shape(port));
    step->feed_names.push_back(port == 0 ? node->name() : absl::StrCat(node->name(), ":", port));
  }
  ASSIGN_OR_RETURN(StepGraph built, BuildStepGraph(*graph_, resolved));
  std::unique_ptr<Graph> step_graph = std::move(built.graph);
  // Placed before the passes, which then keep each node's device and fuse only where the
  // device has the fused kernel; what the passes add is placed after them.
  RETURN_IF_ERROR(Place(step_graph.get(), built.origin));
  RETURN_IF_ERROR(Optimize(targets, step_graph.get()));
  RETURN_IF_ERROR(Place(step_graph.get(), built.origin));
  if (options_.GetBool("log_device_placement")) {
    for (const Node* node : step_graph->nodes()) {
      std::fprintf(stderr, "%s: (%s): %s\n", node->name().c_str(), node->type_string().c_str(),
                   node->assigned_device().c_str());
    }
  }
  ASSIGN_OR_RETURN(auto partitions, PartitionGraph(std::move(step_graph), *devices_));
  for (auto& [device_name, part] : partitions) {
    Device* device = devices_->Find(device_name);
    auto handle = runner_.Register(std::move(part), device,
                                   [&](const Node& node) { return CreateKernel(node, device); });
    if (!handle.ok()) {
      for (PartitionRunner::Handle h : step->partitions) runner_.Deregister(h);
      return handle.status();
    }
    step->partitions.push_back(*handle);
  }
  PreparedStep* raw = step.get();
  prepared_[signature] = std::move(step);
  return raw;
}

absl::Status DirectSession::Place(Graph* step_graph, const std::vector<int>& origin) {
  // The session's nodes keep the devices an earlier signature gave them: a variable never
  // moves between two runs.
  if (placed_.size() < static_cast<size_t>(graph_->num_node_ids())) {
    placed_.resize(graph_->num_node_ids());
  }
  auto session_id = [&](const Node* node) {
    return node->id() < static_cast<int>(origin.size()) ? origin[node->id()] : -1;
  };
  std::vector<Node*> unplaced;
  for (Node* node : step_graph->nodes()) {
    if (!node->assigned_device().empty()) continue;
    const int id = session_id(node);
    if (id >= 0 && !placed_[id].empty()) {
      node->set_assigned_device(placed_[id]);
    } else {
      unplaced.push_back(node);
    }
  }
  if (unplaced.empty()) return absl::OkStatus();
  RETURN_IF_ERROR(PlaceGraph(step_graph, *devices_, options_.GetBool("allow_soft_placement")));
  for (const Node* node : unplaced) {
    const int id = session_id(node);
    if (id >= 0) placed_[id] = node->assigned_device();
  }
  return absl::OkStatus();
}

absl::Status DirectSession::Optimize(const std::vector<std::string>& targets,
                                     Graph* step_graph) const {
  const int level = static_cast<int>(options_.GetInt("graph_optimization_level"));
  if (level == 0) return absl::OkStatus();
  PassContext ctx;
  ctx.keep.insert(targets.begin(), targets.end());
  for (const Node* node : step_graph->nodes()) {
    if (node->type_string() == "_Arg" || node->type_string() == "_Retval") {
      ctx.keep.insert(node->name());
    }
  }
  // Constants fold on the first CPU device.
  for (const auto& device : devices_->devices()) {
    if (device->device_type() == "CPU") {
      ctx.evaluate = ComputeOnceOn(device.get());
      break;
    }
  }
  return OptimizeGraph(level, ctx, step_graph);
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
  for (size_t i = 0; i < args.size(); ++i) {
    const auto& [dtype, shape] = step->feed_specs[i];
    const Tensor& value = args[i];
    if (value.dtype() != dtype) {
      return absl::InvalidArgumentError(
          absl::StrCat("feed for '", feed_names[i], "' has dtype ", DataTypeString(value.dtype()),
                       ", but '", step->feed_names[i], "' expects ", DataTypeString(dtype)));
    }
    // The leading dim is the batch: frozen graphs often pin it (e.g. [100,784]) while
    // serving any batch size, so only the rank and the other dims must match.
    PartialShape expected = shape;
    if (expected.rank() > 0) expected.set_dim(0, PartialShape::kUnknownDim);
    if (!expected.IsCompatibleWith(PartialShape(value.shape()))) {
      return absl::InvalidArgumentError(
          absl::StrCat("feed for '", feed_names[i], "' has shape ", value.shape().DebugString(),
                       ", but '", step->feed_names[i], "' has shape ", shape.DebugString()));
    }
  }

  CallFrame frame(std::move(args), static_cast<int>(fetches.size()));
  LocalRendezvous rendezvous;
  ExecutorArgs exec_args;
  exec_args.step_id = next_step_id_.fetch_add(1);
  exec_args.rendezvous = &rendezvous;
  exec_args.call_frame = &frame;
  exec_args.inter_op_pool = inter_op_pool_ ? inter_op_pool_.get() : local_devices_->compute_pool();
  exec_args.stats = stats;

  // All partitions run at once; tensors meet in the rendezvous.
  absl::Status status = runner_.RunStep(step->partitions, exec_args);
  RETURN_IF_ERROR(status);
  *outputs = std::move(frame.retvals());
  return absl::OkStatus();
}

}  // namespace runnel
