#include "distributed/master_session.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/attr_value.h"
#include "core/device_name.h"
#include "core/proto/step_stats.pb.h"
#include "core/status.h"
#include "core/threadpool.h"
#include "distributed/curve_keys.h"
#include "distributed/remote_rendezvous.h"
#include "distributed/server.h"
#include "runtime/threadpool.h"

namespace runnel {
namespace {

constexpr absl::Duration kStartupWait = absl::Seconds(60);
constexpr absl::Duration kCleanupWait = absl::Seconds(2);
// Runs that wait longer than this for their answers sleep at once (see SpinFor).
constexpr absl::Duration kMaxSpin = absl::Milliseconds(1);

bool PassesFilters(const DeviceName& task, const std::vector<DeviceName>& filters) {
  if (filters.empty()) return true;
  for (const DeviceName& f : filters) {
    if ((f.job.empty() || f.job == task.job) && (f.task < 0 || f.task == task.task)) return true;
  }
  return false;
}

// Whether calls made with either options look the same to a server.
bool SameClient(const TransportOptions& a, const TransportOptions& b) {
  return a.client_public_key == b.client_public_key && a.client_secret_key == b.client_secret_key &&
         a.server_public_key == b.server_public_key &&
         a.limits.max_envelope_bytes == b.limits.max_envelope_bytes &&
         a.limits.max_tensor_bytes == b.limits.max_tensor_bytes &&
         a.limits.max_tensors == b.limits.max_tensors && a.limits.max_rank == b.limits.max_rank;
}

}  // namespace

absl::StatusOr<std::unique_ptr<MasterSession>> MasterSession::Create(
    std::shared_ptr<Graph> graph, const std::string& target, const SessionOptions& options,
    const TransportOptions& transport) {
  RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<MasterSession> session(new MasterSession(std::move(graph), options));
  ASSIGN_OR_RETURN(session->target_endpoint_, EndpointOf(target));
  TransportOptions transport_options = transport;
  RETURN_IF_ERROR(LoadCurveKeys(options.GetString("curve_key_dir"), &transport_options));
  transport_options.server_secret_key.clear();  // a client listens nowhere
  // A session on a server of this process calls the other tasks through that server's
  // transport when it may (the same keys): one I/O thread and one socket per peer carry
  // its RunGraphs and the server's RecvTensors, as TensorFlow's master lives in its server.
  std::shared_ptr<Transport> local = LocalWorkers::TransportOf(session->target_endpoint_);
  if (local != nullptr && SameClient(local->options(), transport_options)) {
    session->transport_ = std::move(local);
  } else {
    ASSIGN_OR_RETURN(session->transport_, Transport::Create(transport_options));
  }
  session->fold_pool_ = std::make_unique<WorkerThreadPool>("master_fold", 1);
  ASSIGN_OR_RETURN(session->fold_device_, CreateHostDevice(session->fold_pool_.get()));
  std::lock_guard<std::mutex> lock(session->mu_);
  RETURN_IF_ERROR(session->Discover(/*wait=*/true));
  return session;
}

MasterSession::~MasterSession() { Close(); }

void MasterSession::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return;
  closed_ = true;
  for (uint64_t step_id : in_flight_) {
    EndStep(step_id, absl::CancelledError("the session was closed"), tasks_);
  }
  idle_cv_.wait(lock, [this] { return in_flight_.empty(); });
  FlushEndedSteps();
  DeregisterAll();
}

absl::Duration MasterSession::PeerTimeout() const {
  return absl::Milliseconds(std::max<int64_t>(options_.GetInt("peer_timeout_ms"), 1));
}

absl::Status MasterSession::Discover(bool wait) {
  const absl::Time deadline = absl::Now() + (wait ? kStartupWait : absl::ZeroDuration());
  absl::Time next_report = absl::Now() + absl::Seconds(10);
  // GetStatus from each endpoint, again for those not answering while waiting.
  auto get_status = [&](std::vector<Task> tasks) -> absl::StatusOr<std::vector<GetStatusResponse>> {
    std::vector<GetStatusResponse> out(tasks.size());
    std::vector<size_t> todo(tasks.size());
    for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
    for (;;) {
      std::vector<Call> calls;
      for (size_t i : todo) {
        Message request;
        request.envelope.mutable_get_status();
        calls.emplace_back(tasks[i], std::move(request));
      }
      std::vector<absl::StatusOr<Message>> results =
          CallAll(std::move(calls), absl::InfiniteDuration(), nullptr);
      std::vector<size_t> again;
      for (size_t k = 0; k < todo.size(); ++k) {
        if (results[k].ok()) {
          out[todo[k]] = results[k]->envelope.get_status_response();
        } else if (results[k].status().code() != absl::StatusCode::kUnavailable ||
                   absl::Now() > deadline) {
          return results[k].status();
        } else {
          again.push_back(todo[k]);
        }
      }
      if (again.empty()) return out;
      if (absl::Now() > next_report) {
        next_report = absl::Now() + absl::Seconds(10);
        for (size_t i : again) {
          std::fprintf(stderr, "runnel: still waiting for %s at %s\n", tasks[i].name.c_str(),
                       tasks[i].endpoint.c_str());
        }
      }
      todo = std::move(again);
    }
  };

  ASSIGN_OR_RETURN(std::vector<GetStatusResponse> target,
                   get_status({Task{"the target", target_endpoint_}}));
  const ClusterDef& cluster = target[0].cluster();
  const std::string target_task =
      absl::StrCat("/job:", target[0].job(), "/replica:0/task:", target[0].task());
  std::vector<DeviceName> filters;
  for (absl::string_view f :
       absl::StrSplit(options_.GetString("device_filters"), ',', absl::SkipWhitespace())) {
    ASSIGN_OR_RETURN(DeviceName parsed, DeviceName::Parse(std::string(f)));
    filters.push_back(parsed);
  }
  std::vector<Task> tasks{{target_task, target_endpoint_}};
  for (const JobDef& job : cluster.job()) {
    for (const auto& [index, address] : job.tasks()) {
      const std::string name = absl::StrCat("/job:", job.name(), "/replica:0/task:", index);
      if (name == target_task) continue;
      if (!PassesFilters(DeviceName{job.name(), 0, index, "", -1}, filters)) continue;
      ASSIGN_OR_RETURN(std::string endpoint, EndpointOf(address));
      tasks.push_back({name, endpoint});
    }
  }
  std::vector<Task> others(tasks.begin() + 1, tasks.end());
  ASSIGN_OR_RETURN(std::vector<GetStatusResponse> statuses, get_status(others));
  statuses.insert(statuses.begin(), target[0]);

  std::vector<std::unique_ptr<Device>> devices;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const GetStatusResponse& status = statuses[i];
    const std::string says = absl::StrCat("/job:", status.job(), "/replica:0/task:", status.task());
    if (says != tasks[i].name) {
      return absl::FailedPreconditionError(absl::StrCat("the server at ", tasks[i].endpoint, " is ",
                                                        says, ", but the cluster lists ",
                                                        tasks[i].name, " there"));
    }
    for (const DeviceAttributesProto& d : status.device()) {
      absl::StatusOr<DeviceName> name = DeviceName::Parse(d.name());
      if (!name.ok() || name->job != status.job() || name->task != status.task()) {
        return absl::FailedPreconditionError(
            absl::StrCat(tasks[i].name, " lists a device '", d.name(), "' that is not its own"));
      }
      devices.push_back(std::make_unique<Device>(*name, d.memory_limit(), d.incarnation()));
    }
  }
  // Unchanged incarnations: what is registered stays valid.
  bool same = devices_ != nullptr && devices_->devices().size() == devices.size();
  for (size_t i = 0; same && i < devices.size(); ++i) {
    same = devices_->devices()[i]->name() == devices[i]->name() &&
           devices_->devices()[i]->incarnation() == devices[i]->incarnation();
  }
  if (same) return absl::OkStatus();
  DeregisterAll();
  tasks_ = std::move(tasks);
  devices_ = std::make_unique<DeviceSet>(std::move(devices));
  preparer_ = std::make_unique<GraphPreparer>(options_, devices_.get(), fold_device_.get());
  return absl::OkStatus();
}

void MasterSession::CallTask(const Task& task, Message request, Transport::ResponseCallback done,
                             absl::Duration timeout) {
  if (LocalWorkers::Call(task.endpoint, request, done)) return;
  transport_->Call(task.endpoint, task.name, std::move(request), std::move(done), timeout,
                   PeerTimeout());
}

std::vector<absl::StatusOr<Message>> MasterSession::CallAll(
    std::vector<Call> calls, absl::Duration timeout,
    const std::function<void(absl::Status)>& on_error, absl::Duration spin) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::atomic<size_t> remaining;  // changed under mu, read without it while spinning
    bool failed = false;
    bool past_deadline = false;  // answers that come later are dropped
    std::vector<bool> answered;
    std::vector<absl::StatusOr<Message>> results;
  };
  auto state = std::make_shared<State>();
  state->remaining = calls.size();
  state->answered.resize(calls.size(), false);
  state->results.resize(calls.size(), absl::UnknownError("no answer"));
  // Remote calls go out first: a call to a worker in this process runs the cheap start of
  // its partitions on this thread before it returns.
  std::vector<size_t> order;
  for (int local = 0; local < 2; ++local) {
    for (size_t i = 0; i < calls.size(); ++i) {
      if (LocalWorkers::Has(calls[i].first.endpoint) == (local == 1)) order.push_back(i);
    }
  }
  for (size_t i : order) {
    CallTask(
        calls[i].first, std::move(calls[i].second),
        [state, i, on_error](absl::StatusOr<Message> response) {
          bool first_failure = false;
          absl::Status status = response.status();
          {
            std::lock_guard<std::mutex> lock(state->mu);
            if (state->past_deadline) return;
            state->results[i] = std::move(response);
            state->answered[i] = true;
            first_failure = !status.ok() && !state->failed;
            state->failed = state->failed || !status.ok();
          }
          if (first_failure && on_error) on_error(status);
          std::lock_guard<std::mutex> lock(state->mu);
          if (--state->remaining == 0) state->cv.notify_all();
        },
        timeout);
  }
  const absl::Time deadline = absl::Now() + timeout;
  auto all_answered = [&] { return state->remaining == 0; };
  if (spin > absl::ZeroDuration() && !spinning_.exchange(true)) {
    // Awake only while nothing computes here: the CPU may be the pool's. The answers are
    // taken off the sockets here, the I/O thread's wake-up saved.
    SpinWait(
        [&] {
          transport_->PollAnswers();
          return all_answered() || WorkerThreadPool::Busy() > 0;
        },
        absl::ToChronoNanoseconds(std::min(spin, timeout)));
    spinning_ = false;
  }
  std::unique_lock<std::mutex> lock(state->mu);
  if (timeout == absl::InfiniteDuration()) {
    state->cv.wait(lock, all_answered);
    return std::move(state->results);
  }
  if (state->cv.wait_until(lock, absl::ToChronoTime(deadline), all_answered)) {
    return std::move(state->results);
  }
  // A call to a worker in this process has no socket to time it out: it is done here.
  state->past_deadline = true;
  absl::Status late;
  for (size_t i = 0; i < calls.size(); ++i) {
    if (state->answered[i]) continue;
    state->results[i] = absl::DeadlineExceededError(
        absl::StrCat("the call to ", calls[i].first.name, " ran past its deadline"));
    if (late.ok()) late = state->results[i].status();
  }
  const bool first_failure = !state->failed;
  state->failed = true;
  std::vector<absl::StatusOr<Message>> results = state->results;
  lock.unlock();
  if (first_failure && on_error) on_error(late);
  return results;
}

absl::StatusOr<std::shared_ptr<MasterSession::PreparedStep>> MasterSession::Prepare(
    const StepSignature& signature) {
  const std::string key = SignatureKey(signature);
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return absl::CancelledError("the session is closed");
  if (stale_) {
    RETURN_IF_ERROR(Discover(/*wait=*/false));
    stale_ = false;
  }
  auto it = prepared_.find(key);
  if (it != prepared_.end()) return it->second;

  auto step = std::make_shared<PreparedStep>();
  ASSIGN_OR_RETURN(step->graph, preparer_->Prepare(*graph_, signature));
  std::map<std::string, int> task_index;
  for (size_t i = 0; i < tasks_.size(); ++i) task_index[tasks_[i].name] = static_cast<int>(i);
  std::map<int, RegisterGraphRequest> requests;
  std::map<int, TaskPart> parts;
  for (auto& [device, partition] : step->graph.partitions) {
    ASSIGN_OR_RETURN(std::string task, TaskOfDevice(device));
    const int index = task_index.at(task);
    RegisterGraphRequest& request = requests[index];
    request.set_num_args(static_cast<int>(signature.feeds.size()));
    request.set_num_retvals(static_cast<int>(signature.fetches.size()));
    PartitionDef* def = request.add_partition();
    def->set_device(device);
    partition->ToGraphDef(def->mutable_graph(), /*attached_values=*/true);
    partition->ToGraphDef(&step->partition_graphs.emplace_back(), /*attached_values=*/false);
    TaskPart& part = parts[index];
    part.task = tasks_[index];
    for (const Node* node : partition->nodes()) {
      const bool arg = node->type_string() == "_Arg";
      if (!arg && node->type_string() != "_Retval") continue;
      int64_t slot = 0;
      RETURN_IF_ERROR(AttrSlice(node->def()).Get("index", &slot));
      (arg ? part.arg_index : part.retval_index).push_back(static_cast<int>(slot));
    }
  }
  step->graph.partitions.clear();
  std::vector<Call> calls;
  for (auto& [index, request] : requests) {
    Message message;
    *message.envelope.mutable_register_graph() = std::move(request);
    calls.emplace_back(tasks_[index], std::move(message));
  }
  std::vector<absl::StatusOr<Message>> results = CallAll(calls, absl::InfiniteDuration(), nullptr);
  absl::Status status;
  size_t k = 0;
  for (auto& [index, part] : parts) {
    const absl::StatusOr<Message>& result = results[k++];
    if (!result.ok()) {
      if (status.ok()) status = result.status();
      continue;
    }
    part.graph_handle = result->envelope.register_graph_response().graph_handle();
    step->parts.push_back(std::move(part));
  }
  if (!status.ok()) {
    Deregister(*step);
    return status;
  }
  prepared_[key] = step;
  return step;
}

absl::Status MasterSession::PrepareRun(const std::vector<std::string>& feeds,
                                       const std::vector<std::string>& fetches,
                                       const std::vector<std::string>& targets) {
  return Prepare(StepSignature{feeds, fetches, targets}).status();
}

absl::Status MasterSession::Run(const RunOptions& options,
                                const std::vector<std::pair<std::string, Tensor>>& feeds,
                                const std::vector<std::string>& fetches,
                                const std::vector<std::string>& targets,
                                std::vector<Tensor>* outputs, RunMetadata* metadata) {
  StepSignature signature{{}, fetches, targets};
  for (const auto& feed : feeds) signature.feeds.push_back(feed.first);
  ASSIGN_OR_RETURN(std::shared_ptr<PreparedStep> step, Prepare(signature));
  RETURN_IF_ERROR(CheckFeeds(step->graph, feeds));
  uint64_t step_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return absl::CancelledError("the session is closed");
    step_id = step_ids_();
    in_flight_.insert(step_id);
  }
  const int64_t timeout_ms = options.timeout_in_ms() > 0 ? options.timeout_in_ms()
                                                         : options_.GetInt("operation_timeout_ms");
  const absl::Duration timeout =
      timeout_ms > 0 ? absl::Milliseconds(timeout_ms) : absl::InfiniteDuration();
  const bool trace = options.trace_level() != RunOptions::NO_TRACE;
  std::vector<Call> calls;
  for (const TaskPart& part : step->parts) {
    Message request;
    RunGraphRequest* run = request.envelope.mutable_run_graph();
    run->set_graph_handle(part.graph_handle);
    run->set_step_id(step_id);
    run->set_trace(trace);
    {
      std::lock_guard<std::mutex> lock(ended_mu_);
      auto ended = ended_steps_.find(part.task.endpoint);
      if (ended != ended_steps_.end()) {
        for (uint64_t id : ended->second.step_ids) run->add_ended_step_id(id);
        ended_steps_.erase(ended);
      }
    }
    for (int index : part.arg_index) request.tensors.push_back(feeds[index].second);
    calls.emplace_back(part.task, std::move(request));
  }
  std::vector<Task> tasks;
  for (const TaskPart& part : step->parts) tasks.push_back(part.task);
  // The first failure is the cause: the aborts it sends make the other tasks fail too
  // ("step has ended"), and their answers may come first in task order.
  absl::Status status;
  const absl::Time start = absl::Now();
  std::vector<absl::StatusOr<Message>> results = CallAll(
      std::move(calls), timeout,
      [this, step_id, &tasks, &status](absl::Status s) {
        status = s;
        EndStep(step_id, s, tasks);
      },
      SpinFor(*step));
  const int64_t waited = absl::ToInt64Nanoseconds(absl::Now() - start);
  const int64_t mean = step->wait_ns.load(std::memory_order_relaxed);
  step->wait_ns.store(mean == 0 ? waited : mean + (waited - mean) / 4, std::memory_order_relaxed);
  if (status.ok()) EndStep(step_id, absl::OkStatus(), tasks);  // else ended at the failure
  {
    std::lock_guard<std::mutex> lock(mu_);
    in_flight_.erase(step_id);
    if (in_flight_.empty()) idle_cv_.notify_all();
  }
  if (!status.ok()) {
    if (absl::IsUnavailable(status) || absl::IsAborted(status)) {
      std::lock_guard<std::mutex> lock(mu_);
      stale_ = true;
    }
    return status;
  }
  outputs->assign(fetches.size(), Tensor());
  StepStats stats;
  for (size_t i = 0; i < step->parts.size(); ++i) {
    Message& response = *results[i];
    const TaskPart& part = step->parts[i];
    if (response.tensors.size() != part.retval_index.size()) {
      return absl::InternalError(absl::StrCat(part.task.name, " returned ", response.tensors.size(),
                                              " fetches, not ", part.retval_index.size()));
    }
    for (size_t k = 0; k < part.retval_index.size(); ++k) {
      (*outputs)[part.retval_index[k]] = std::move(response.tensors[k]);
    }
    if (trace) {
      StepStats task_stats;
      if (task_stats.ParseFromString(response.envelope.run_graph_response().step_stats())) {
        for (auto& d : *task_stats.mutable_dev_stats()) *stats.add_dev_stats() = std::move(d);
      }
    }
  }
  if (metadata != nullptr) {
    if (trace) *metadata->mutable_step_stats() = std::move(stats);
    if (options.output_partition_graphs()) {
      for (const GraphDef& g : step->partition_graphs) *metadata->add_partition_graphs() = g;
    }
  }
  return absl::OkStatus();
}

// A short step is waited for awake. The answer of a remote task reaches this thread through
// ZeroMQ's I/O thread and the transport's, and waking a sleeping thread costs tens of
// microseconds more on a busy machine (more still where its CPU went idle in a virtual
// machine). In interleaved runs on 2 cores a 4 KB transfer step took 0.13-0.16 ms against
// 0.24-0.29 asleep, and a 1 MB step mostly 0.28-0.29 ms against 0.34-0.42. Waiting awake
// takes a CPU from the work: a 2-worker MLP on 2 cores, whose steps wait 2-3 ms, trained
// 15% slower spinning 1 ms per step, and a 0.2 ms MLP step computed on this process's
// pool took 1.45x as long with its caller spinning. So only runs whose recent mean wait
// is at most kMaxSpin spin, for up to twice that mean, one at a time, and only while no
// pool thread of this process runs work.
absl::Duration MasterSession::SpinFor(const PreparedStep& step) const {
  const absl::Duration mean = absl::Nanoseconds(step.wait_ns.load(std::memory_order_relaxed));
  if (mean == absl::ZeroDuration() || mean > kMaxSpin) return absl::ZeroDuration();
  return std::min(2 * mean, kMaxSpin);
}

void MasterSession::EndStep(uint64_t step_id, const absl::Status& status,
                            const std::vector<Task>& tasks) {
  if (status.ok()) {
    std::lock_guard<std::mutex> lock(ended_mu_);
    for (const Task& task : tasks) {
      EndedSteps& ended = ended_steps_[task.endpoint];
      ended.task = task;
      ended.step_ids.push_back(step_id);
    }
    return;
  }
  // At the first failure this runs on the thread that answered: it only queues messages.
  for (const Task& task : tasks) SendCleanupStep(task, step_id, status);
}

void MasterSession::SendCleanupStep(const Task& task, uint64_t step_id, const absl::Status& abort) {
  Message request;
  CleanupStepRequest* cleanup = request.envelope.mutable_cleanup_step();
  cleanup->set_step_id(step_id);
  cleanup->set_abort_code(static_cast<int>(abort.code()));
  cleanup->set_abort_message(std::string(abort.message()));
  CallTask(
      task, std::move(request), [](absl::StatusOr<Message>) {}, PeerTimeout());
}

void MasterSession::Deregister(const PreparedStep& step) {
  std::vector<Call> calls;
  for (const TaskPart& part : step.parts) {
    Message request;
    request.envelope.mutable_deregister_graph()->set_graph_handle(part.graph_handle);
    calls.emplace_back(part.task, std::move(request));
  }
  if (!calls.empty()) CallAll(std::move(calls), kCleanupWait, nullptr);
}

void MasterSession::FlushEndedSteps() {
  std::map<std::string, EndedSteps> ended;
  {
    std::lock_guard<std::mutex> lock(ended_mu_);
    ended.swap(ended_steps_);
  }
  for (const auto& [endpoint, steps] : ended) {
    for (uint64_t step_id : steps.step_ids) SendCleanupStep(steps.task, step_id, absl::OkStatus());
  }
}

void MasterSession::DeregisterAll() {
  for (const auto& [key, step] : prepared_) Deregister(*step);
  prepared_.clear();
}

}  // namespace runnel
