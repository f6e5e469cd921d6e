#include "distributed/remote_rendezvous.h"

#include "absl/strings/str_cat.h"
#include "core/device_name.h"
#include "core/status.h"

namespace runnel {

absl::StatusOr<std::string> TaskOfDevice(const std::string& device) {
  ASSIGN_OR_RETURN(DeviceName name, DeviceName::Parse(device));
  if (name.job.empty() || name.task < 0) {
    return absl::InvalidArgumentError(absl::StrCat("device '", device, "' names no task"));
  }
  return absl::StrCat("/job:", name.job, "/replica:", std::max(name.replica, 0),
                      "/task:", name.task);
}

RemoteRendezvous::RemoteRendezvous(uint64_t step_id, std::string task, TaskResolver resolve,
                                   Transport* transport)
    : step_id_(step_id),
      task_(std::move(task)),
      resolve_(std::move(resolve)),
      transport_(transport) {}

RemoteRendezvous::~RemoteRendezvous() {
  StartAbort(absl::CancelledError("the step ended before the tensor arrived"));
}

absl::Status RemoteRendezvous::Send(const std::string& key, const Tensor& value, bool is_dead) {
  return local_.Send(key, value, is_dead);
}

void RemoteRendezvous::RecvAsync(const std::string& key, DoneCallback done) {
  const std::string source = key.substr(0, key.find(';'));
  absl::StatusOr<std::string> task = TaskOfDevice(source);
  if (task.ok() && *task == task_) {
    local_.RecvAsync(key, std::move(done));
    return;
  }
  absl::StatusOr<std::string> endpoint = task.ok() ? resolve_(*task) : task.status();
  if (!endpoint.ok()) {
    done(AppendToMessage(endpoint.status(), absl::StrCat(" (receiving ", key, ")")), Tensor(),
         false);
    return;
  }
  int64_t id = 0;
  absl::Status aborted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    aborted = abort_status_;
    if (aborted.ok()) {
      id = next_++;
      remote_[id] = std::move(done);
    }
  }
  if (!aborted.ok()) {
    done(aborted, Tensor(), false);
    return;
  }
  Message request;
  request.envelope.mutable_recv_tensor()->set_step_id(step_id_);
  request.envelope.mutable_recv_tensor()->set_rendezvous_key(key);
  std::weak_ptr<RemoteRendezvous> self = weak_from_this();
  transport_->Call(
      *endpoint, *task, std::move(request), [self, id](absl::StatusOr<Message> response) {
        std::shared_ptr<RemoteRendezvous> rendezvous = self.lock();
        if (rendezvous == nullptr) return;  // aborted: answered already
        DoneCallback done;
        {
          std::lock_guard<std::mutex> lock(rendezvous->mu_);
          auto it = rendezvous->remote_.find(id);
          if (it == rendezvous->remote_.end()) return;
          done = std::move(it->second);
          rendezvous->remote_.erase(it);
        }
        // On the I/O thread: the receiving graph goes on here with its cheap nodes only.
        if (!response.ok()) {
          done(response.status(), Tensor(), false);
        } else if (response->tensors.size() != 1) {
          done(absl::InternalError("RecvTensor answered without one tensor"), Tensor(), false);
        } else {
          done(absl::OkStatus(), response->tensors[0], response->dead(0));
        }
      });
}

void RemoteRendezvous::StartAbort(const absl::Status& status) {
  local_.StartAbort(status);
  std::map<int64_t, DoneCallback> remote;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (abort_status_.ok()) abort_status_ = status;
    remote.swap(remote_);
  }
  for (auto& [id, done] : remote) done(status, Tensor(), false);
}

}  // namespace runnel
