#include "distributed/worker.h"

#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "core/attr_value.h"
#include "core/call_frame.h"
#include "core/status.h"
#include "runtime/step_stats.h"

namespace runnel {
namespace {

constexpr size_t kEndedStepsKept = 4096;
// Steps no master cleaned up (it died mid-step, or a peer asked for a step that never
// ran) are dropped once there are this many and they are this old.
constexpr size_t kStepsBeforeSweep = 1024;
constexpr auto kAbandonedStepAge = std::chrono::minutes(10);

uint64_t NewIncarnation() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

void RespondStatus(const Transport::Responder& respond, const absl::Status& status,
                   Message response = {}) {
  SetStatus(status, &response.envelope);
  respond(std::move(response));
}

}  // namespace

Worker::Worker(std::string task, std::shared_ptr<LocalDevices> devices, Transport* transport,
               TaskResolver resolve, ClusterDef cluster)
    : task_(std::move(task)),
      incarnation_(NewIncarnation()),
      devices_(std::move(devices)),
      transport_(transport),
      resolve_(std::move(resolve)),
      cluster_(std::move(cluster)),
      control_pool_("worker_control", 2) {}

Worker::~Worker() {
  std::map<uint64_t, std::shared_ptr<Step>> steps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    steps.swap(steps_);
  }
  const absl::Status status = absl::CancelledError(absl::StrCat(task_, " is shutting down"));
  for (auto& [id, step] : steps) {
    step->rendezvous->StartAbort(status);
    step->cancellation.StartCancel(status);
  }
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait(lock, [this] { return in_flight_ == 0; });
}

Transport::Responder Worker::Track(Transport::Responder respond) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++in_flight_;
  }
  return [this, respond = std::move(respond)](Message response) {
    respond(std::move(response));
    std::lock_guard<std::mutex> lock(mu_);
    if (--in_flight_ == 0) idle_cv_.notify_all();
  };
}

void Worker::Handle(Message request, Transport::Responder respond) {
  const Envelope& envelope = request.envelope;
  switch (envelope.body_case()) {
    case Envelope::kGetStatus:
      GetStatus(std::move(respond));
      return;
    case Envelope::kRecvTensor:
      RecvTensor(envelope.recv_tensor(), std::move(respond));
      return;
    case Envelope::kCleanupStep: {
      const CleanupStepRequest& cleanup = envelope.cleanup_step();
      EndStep(cleanup.step_id(), MakeStatus(cleanup.abort_code(), cleanup.abort_message()));
      RespondStatus(respond, absl::OkStatus());
      return;
    }
    case Envelope::kRunGraph:
      for (uint64_t step_id : envelope.run_graph().ended_step_id()) {
        EndStep(step_id, absl::OkStatus());
      }
      // On the caller's thread (the transport's I/O thread, or a master's in this process):
      // the executor runs only cheap nodes there and sends expensive ones to the pool.
      RunGraph(std::move(request), Track(std::move(respond)));
      return;
    case Envelope::kRegisterGraph:
      control_pool_.Schedule(
          [this, request = std::move(request), respond = Track(std::move(respond))]() mutable {
            absl::StatusOr<std::string> handle = RegisterGraph(request.envelope.register_graph());
            Message response;
            if (handle.ok()) {
              response.envelope.mutable_register_graph_response()->set_graph_handle(*handle);
            }
            RespondStatus(respond, handle.status(), std::move(response));
          });
      return;
    case Envelope::kDeregisterGraph:
      control_pool_.Schedule([this, handle = envelope.deregister_graph().graph_handle(),
                              respond = Track(std::move(respond))] {
        RespondStatus(respond, DeregisterGraph(handle));
      });
      return;
    default:
      RespondStatus(respond,
                    absl::InvalidArgumentError(absl::StrCat(
                        task_, " does not serve requests of kind ", envelope.body_case())));
  }
}

size_t Worker::LiveSteps() {
  std::lock_guard<std::mutex> lock(mu_);
  return steps_.size();
}

void Worker::GetStatus(Transport::Responder respond) {
  Message response;
  GetStatusResponse* status = response.envelope.mutable_get_status_response();
  absl::StatusOr<DeviceName> name = DeviceName::Parse(task_);
  status->set_job(name.ok() ? name->job : "");
  status->set_task(name.ok() ? name->task : 0);
  status->set_incarnation(incarnation_);
  *status->mutable_cluster() = cluster_;
  for (const auto& device : devices_->devices().devices()) {
    DeviceAttributesProto* d = status->add_device();
    d->set_name(device->name());
    d->set_device_type(device->device_type());
    d->set_memory_limit(device->memory_limit());
    d->set_incarnation(device->incarnation());
  }
  respond(std::move(response));
}

absl::StatusOr<std::string> Worker::RegisterGraph(const RegisterGraphRequest& request) {
  if (request.num_args() < 0 || request.num_retvals() < 0) {
    return absl::InvalidArgumentError("negative argument or result count");
  }
  Registered registered;
  registered.num_args = request.num_args();
  registered.num_retvals = request.num_retvals();
  auto fail = [&](const absl::Status& status) {
    for (PartitionRunner::Handle h : registered.partitions) runner_.Deregister(h);
    return status;
  };
  for (const PartitionDef& partition : request.partition()) {
    Device* device = devices_->devices().Find(partition.device());
    if (device == nullptr) {
      return fail(absl::InvalidArgumentError(
          absl::StrCat("a partition for device '", partition.device(), "', which ", task_,
                       " does not have (it has ", devices_->devices().DebugNames(), ")")));
    }
    GraphBuildOptions options;
    options.infer_shapes = false;
    auto graph = Graph::FromGraphDefTakingWeights(partition.graph(), options);
    if (!graph.ok()) return fail(graph.status());
    for (Node* node : (*graph)->nodes()) {
      node->set_assigned_device(device->name());
      const bool arg = node->type_string() == "_Arg";
      if (!arg && node->type_string() != "_Retval") continue;
      int64_t index = -1;
      absl::Status status = AttrSlice(node->def()).Get("index", &index);
      const int limit = arg ? registered.num_args : registered.num_retvals;
      if (status.ok() && (index < 0 || index >= limit)) {
        status = absl::InvalidArgumentError(
            absl::StrCat("index ", index, " is not below ", limit, node->ErrorSuffix()));
      }
      if (!status.ok()) return fail(status);
      if (arg) {
        registered.arg_index.push_back(static_cast<int>(index));
        registered.arg_dtype.push_back(BaseType(node->output_type(0)));
      } else {
        registered.retval_index.push_back(static_cast<int>(index));
      }
    }
    auto handle = runner_.Register(*std::move(graph), device);
    if (!handle.ok()) return fail(handle.status());
    registered.partitions.push_back(*handle);
  }
  std::lock_guard<std::mutex> lock(mu_);
  const std::string handle = absl::StrCat(absl::Hex(incarnation_), "/", next_handle_++);
  graphs_[handle] = std::move(registered);
  return handle;
}

absl::Status Worker::DeregisterGraph(const std::string& handle) {
  Registered registered;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = graphs_.find(handle);
    if (it == graphs_.end()) return absl::OkStatus();
    registered = std::move(it->second);
    graphs_.erase(it);
  }
  for (PartitionRunner::Handle h : registered.partitions) runner_.Deregister(h);
  return absl::OkStatus();
}

void Worker::RunGraph(Message request, Transport::Responder respond) {
  const RunGraphRequest& run = request.envelope.run_graph();
  std::optional<Registered> registered;  // a copy: a deregistration may come meanwhile
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = graphs_.find(run.graph_handle());
    if (it != graphs_.end()) registered = it->second;
  }
  if (!registered) {
    RespondStatus(respond, absl::AbortedError(absl::StrCat("graph '", run.graph_handle(),
                                                           "' is not registered at ", task_,
                                                           " (the task restarted?)")));
    return;
  }
  if (request.tensors.size() != registered->arg_index.size()) {
    RespondStatus(respond, absl::InvalidArgumentError(absl::StrCat(
                               "the step brings ", request.tensors.size(), " feeds to ", task_,
                               ", whose partitions read ", registered->arg_index.size())));
    return;
  }
  std::vector<Tensor> args(registered->num_args);
  for (size_t i = 0; i < request.tensors.size(); ++i) {
    const bool dead = request.dead(i);
    if (dead || request.tensors[i].dtype() != registered->arg_dtype[i]) {
      RespondStatus(respond, absl::InvalidArgumentError(absl::StrCat(
                                 "feed ", registered->arg_index[i], " is ",
                                 dead ? "dead" : DataTypeString(request.tensors[i].dtype()),
                                 "; expected ", DataTypeString(registered->arg_dtype[i]))));
      return;
    }
    args[registered->arg_index[i]] = std::move(request.tensors[i]);
  }
  absl::StatusOr<std::shared_ptr<Step>> found = FindStep(run.step_id());
  if (!found.ok()) {
    RespondStatus(respond, found.status());
    return;
  }
  // What the run needs until its partitions finish.
  struct Run {
    std::shared_ptr<Step> step;
    std::unique_ptr<CallFrame> frame;
    std::unique_ptr<StepStatsCollector> stats;
  };
  auto step = std::make_shared<Run>();
  step->step = *std::move(found);
  step->frame = std::make_unique<CallFrame>(std::move(args), registered->num_retvals);
  if (run.trace()) step->stats = std::make_unique<StepStatsCollector>();
  ExecutorArgs exec_args;
  exec_args.step_id = static_cast<int64_t>(run.step_id());
  exec_args.rendezvous = step->step->rendezvous.get();
  exec_args.call_frame = step->frame.get();
  exec_args.inter_op_pool = devices_->compute_pool();
  exec_args.stats = step->stats.get();
  exec_args.cancellation = &step->step->cancellation;
  std::vector<int> retval_index = std::move(registered->retval_index);
  runner_.RunStepAsync(
      registered->partitions, exec_args,
      [step, retval_index = std::move(retval_index),
       respond = std::move(respond)](absl::Status status) {
        Message response;
        RunGraphResponse* run_response = response.envelope.mutable_run_graph_response();
        if (status.ok()) {
          for (int index : retval_index) {
            response.tensors.push_back(std::move(step->frame->retvals()[index]));
          }
          if (step->stats != nullptr) {
            run_response->set_step_stats(ToStepStats(step->stats->Take()).SerializeAsString());
          }
        }
        RespondStatus(respond, status, std::move(response));
      });
}

void Worker::RecvTensor(const RecvTensorRequest& request, Transport::Responder respond) {
  const std::string& key = request.rendezvous_key();
  absl::StatusOr<std::string> source = TaskOfDevice(key.substr(0, key.find(';')));
  if (!source.ok() || *source != task_) {
    RespondStatus(respond,
                  absl::InvalidArgumentError(absl::StrCat("RecvTensor at ", task_, " for '", key,
                                                          "', which it does not send")));
    return;
  }
  absl::StatusOr<std::shared_ptr<Step>> step = FindStep(request.step_id());
  if (!step.ok()) {
    RespondStatus(respond, step.status());
    return;
  }
  (*step)->rendezvous->RecvLocalAsync(
      key, [respond = std::move(respond)](const absl::Status& status, const Tensor& value,
                                          bool is_dead) {
        Message response;
        response.envelope.mutable_recv_tensor_response();
        if (status.ok()) {
          response.tensors.push_back(value);
          response.is_dead.push_back(is_dead);
        }
        RespondStatus(respond, status, std::move(response));
      });
}

void Worker::EndStep(uint64_t step_id, const absl::Status& abort) {
  std::shared_ptr<Step> step;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = steps_.find(step_id);
    if (it != steps_.end()) {
      step = std::move(it->second);
      steps_.erase(it);
    }
    if (ended_.insert(step_id).second) {
      ended_order_.push_back(step_id);
      if (ended_order_.size() > kEndedStepsKept) {
        ended_.erase(ended_order_.front());
        ended_order_.pop_front();
      }
    }
  }
  if (step == nullptr) return;
  step->rendezvous->StartAbort(abort.ok() ? absl::CancelledError("the step ended") : abort);
  if (!abort.ok()) step->cancellation.StartCancel(abort);
}

std::vector<std::shared_ptr<Worker::Step>> Worker::TakeAbandonedSteps() {
  const auto old = std::chrono::steady_clock::now() - kAbandonedStepAge;
  std::vector<std::shared_ptr<Step>> taken;
  for (auto it = steps_.begin(); it != steps_.end();) {
    if (it->second->created < old) {
      taken.push_back(std::move(it->second));
      it = steps_.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

absl::StatusOr<std::shared_ptr<Worker::Step>> Worker::FindStep(uint64_t step_id) {
  std::vector<std::shared_ptr<Step>> abandoned;
  std::shared_ptr<Step> step;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ended_.count(step_id) > 0) {
      return absl::AbortedError(absl::StrCat("step ", step_id, " has ended at ", task_));
    }
    if (steps_.size() >= kStepsBeforeSweep) abandoned = TakeAbandonedSteps();
    std::shared_ptr<Step>& entry = steps_[step_id];
    if (entry == nullptr) {
      entry = std::make_shared<Step>();
      entry->created = std::chrono::steady_clock::now();
      entry->rendezvous = std::make_shared<RemoteRendezvous>(step_id, task_, resolve_, transport_);
    }
    step = entry;
  }
  // Outside the lock: what the aborts wake may answer requests, which takes it.
  const absl::Status status = absl::AbortedError("the step was abandoned (no clean-up came)");
  for (const auto& old : abandoned) {
    old->rendezvous->StartAbort(status);
    old->cancellation.StartCancel(status);
  }
  return step;
}

namespace {

struct LocalWorker {
  Worker* worker = nullptr;  // null once removed
  std::shared_ptr<Transport> transport;
  int active = 0;  // callers inside Handle()
};

struct LocalWorkerTable {
  std::mutex mu;
  std::condition_variable idle_cv;
  std::map<std::string, LocalWorker> workers;
};

LocalWorkerTable& Table() {
  static auto* table = new LocalWorkerTable;
  return *table;
}

}  // namespace

void LocalWorkers::Add(const std::string& endpoint, Worker* worker,
                       std::shared_ptr<Transport> transport) {
  LocalWorkerTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mu);
  table.workers[endpoint].worker = worker;
  table.workers[endpoint].transport = std::move(transport);
}

void LocalWorkers::Remove(const std::string& endpoint) {
  LocalWorkerTable& table = Table();
  std::unique_lock<std::mutex> lock(table.mu);
  auto it = table.workers.find(endpoint);
  if (it == table.workers.end()) return;
  it->second.worker = nullptr;
  it->second.transport = nullptr;
  table.idle_cv.wait(lock, [&] { return it->second.active == 0; });
  table.workers.erase(it);
}

bool LocalWorkers::Has(const std::string& endpoint) {
  LocalWorkerTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mu);
  auto it = table.workers.find(endpoint);
  return it != table.workers.end() && it->second.worker != nullptr;
}

std::shared_ptr<Transport> LocalWorkers::TransportOf(const std::string& endpoint) {
  LocalWorkerTable& table = Table();
  std::lock_guard<std::mutex> lock(table.mu);
  auto it = table.workers.find(endpoint);
  return it != table.workers.end() ? it->second.transport : nullptr;
}

bool LocalWorkers::Call(const std::string& endpoint, Message& request,
                        Transport::ResponseCallback& done) {
  LocalWorkerTable& table = Table();
  std::map<std::string, LocalWorker>::iterator it;  // stays: Remove() waits for `active`
  Worker* worker;
  {
    std::lock_guard<std::mutex> lock(table.mu);
    it = table.workers.find(endpoint);
    if (it == table.workers.end() || it->second.worker == nullptr) return false;
    worker = it->second.worker;
    ++it->second.active;
  }
  // Handle() returns once the cheap start of the work is done (the rest is on pools and
  // other tasks); what it hands on is the worker's to wait for when it is destroyed. No
  // lock is held: answering may call here again.
  worker->Handle(std::move(request), [done = std::move(done)](Message response) {
    absl::Status status = StatusOf(response.envelope);
    if (status.ok()) {
      done(std::move(response));
    } else {
      done(std::move(status));
    }
  });
  std::lock_guard<std::mutex> lock(table.mu);
  if (--it->second.active == 0) table.idle_cv.notify_all();
  return true;
}

}  // namespace runnel
