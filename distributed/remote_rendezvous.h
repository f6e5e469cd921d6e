// A worker's rendezvous for one step: what this task's partitions send stays in a local
// table, where this task's receivers and other tasks' RecvTensor calls pick it up; a
// receive whose sender is on another task asks that task for the tensor (RecvTensor) and
// delivers it on the transport's I/O thread, where the executor goes on with cheap nodes
// only (runtime/executor.cc, executor_depth). The same interface
// as the in-process LocalRendezvous, so _Send/_Recv kernels do not know the difference.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/rendezvous.h"
#include "distributed/transport.h"
#include "runtime/local_rendezvous.h"

namespace runnel {

// Where a task listens: "tcp://host:port" for "/job:ps/replica:0/task:0", or an error.
using TaskResolver = std::function<absl::StatusOr<std::string>(const std::string& task)>;

class RemoteRendezvous final : public Rendezvous,
                               public std::enable_shared_from_this<RemoteRendezvous> {
 public:
  // `task`: this task's name ("/job:worker/replica:0/task:1").
  RemoteRendezvous(uint64_t step_id, std::string task, TaskResolver resolve, Transport* transport);
  ~RemoteRendezvous() override;

  absl::Status Send(const std::string& key, const Tensor& value, bool is_dead) override;
  void RecvAsync(const std::string& key, DoneCallback done) override;
  void StartAbort(const absl::Status& status) override;

  // A receive of a key this task sends, for another task's RecvTensor call.
  void RecvLocalAsync(const std::string& key, DoneCallback done) { local_.RecvAsync(key, done); }

 private:
  const uint64_t step_id_;
  const std::string task_;
  TaskResolver resolve_;
  Transport* transport_;
  LocalRendezvous local_;
  std::mutex mu_;
  absl::Status abort_status_;
  // Receives waiting on another task, by number: each is answered once, by the response or
  // by an abort, whichever comes first.
  std::map<int64_t, DoneCallback> remote_;
  int64_t next_ = 0;
};

// The task part of a device name: "/job:ps/replica:0/task:0" of ".../task:0/device:CPU:0".
absl::StatusOr<std::string> TaskOfDevice(const std::string& device);

}  // namespace runnel
