// The worker service of one task: it answers the worker protocol (core/proto/worker.proto)
// with the task's devices. A master registers each signature's partitions for this task
// once (RegisterGraph) and then only runs steps (RunGraph), which carry the feeds in and
// the fetches out; tensors between tasks move by RecvTensor through the step's
// RemoteRendezvous. Variables live in the devices' resource managers, so every session of
// every client that uses this task shares them by name (a parameter server's job).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "distributed/remote_rendezvous.h"
#include "distributed/transport.h"
#include "runtime/device.h"
#include "runtime/partition_runner.h"
#include "runtime/threadpool.h"

namespace runnel {

class Worker {
 public:
  // `task`: "/job:ps/replica:0/task:0"; `resolve` finds the other tasks.
  Worker(std::string task, std::shared_ptr<LocalDevices> devices, Transport* transport,
         TaskResolver resolve, ClusterDef cluster);
  ~Worker();

  // Answers one request; runs on the transport's I/O thread, so anything slow moves off it.
  void Handle(Message request, Transport::Responder respond);

  const std::string& task() const { return task_; }
  uint64_t incarnation() const { return incarnation_; }
  // Steps whose state is held here (not yet ended by a master).
  size_t LiveSteps();

 private:
  struct Registered {
    std::vector<PartitionRunner::Handle> partitions;
    int num_args = 0, num_retvals = 0;
    std::vector<int> arg_index, retval_index;  // the call-frame slots this task reads, writes
    std::vector<DataType> arg_dtype;           // by arg_index entry
  };

  void GetStatus(Transport::Responder respond);
  absl::StatusOr<std::string> RegisterGraph(const RegisterGraphRequest& request);
  void RunGraph(Message request, Transport::Responder respond);
  void RecvTensor(const RecvTensorRequest& request, Transport::Responder respond);
  // Drops the step's state here; an error aborts what still runs first.
  void EndStep(uint64_t step_id, const absl::Status& abort);
  absl::Status DeregisterGraph(const std::string& handle);
  // Wraps `respond` to count the request in flight until it is answered.
  Transport::Responder Track(Transport::Responder respond);
  // A step's state here: its rendezvous, and its cancellation, which an abort from the
  // master fires (waking kernels that wait, such as a dequeue).
  struct Step {
    std::shared_ptr<RemoteRendezvous> rendezvous;
    CancellationManager cancellation;
    std::chrono::steady_clock::time_point created;
  };
  // The step, made by whichever of RunGraph and RecvTensor comes first; an error for a
  // step that has ended here.
  absl::StatusOr<std::shared_ptr<Step>> FindStep(uint64_t step_id);
  // Removes steps older than ten minutes (for the caller to abort). Call with mu_ held.
  std::vector<std::shared_ptr<Step>> TakeAbandonedSteps();

  const std::string task_;
  const uint64_t incarnation_;
  std::shared_ptr<LocalDevices> devices_;
  Transport* transport_;
  TaskResolver resolve_;
  ClusterDef cluster_;
  PartitionRunner runner_;
  WorkerThreadPool control_pool_;  // registration: parsing and kernel creation

  std::mutex mu_;
  std::condition_variable idle_cv_;
  int in_flight_ = 0;  // requests handed to a pool: the destructor waits for them
  std::map<std::string, Registered> graphs_;
  std::map<uint64_t, std::shared_ptr<Step>> steps_;
  std::set<uint64_t> ended_;  // recent steps cleaned up here (late RecvTensor calls fail)
  std::deque<uint64_t> ended_order_;
  int64_t next_handle_ = 0;
};

// The workers of the servers in this process, by the endpoint their cluster names: a master
// in the same process calls them directly, not through its socket and theirs (a client
// using its own task's server, as tf.Session(server.target) does, skips two I/O threads
// and a TCP round trip per step).
class LocalWorkers {
 public:
  // `transport`: the server's, which a master in this process may call other tasks through.
  static void Add(const std::string& endpoint, Worker* worker,
                  std::shared_ptr<Transport> transport);
  // Stops new calls to the endpoint's worker and waits for those inside Handle().
  static void Remove(const std::string& endpoint);
  static bool Has(const std::string& endpoint);
  // The transport of the server at `endpoint` in this process, or null.
  static std::shared_ptr<Transport> TransportOf(const std::string& endpoint);
  // Answers `request` by the worker at `endpoint` if it is in this process: `done` gets the
  // response or the error it reports, on whichever thread answers. False (and `request` and
  // `done` untouched) when there is none.
  static bool Call(const std::string& endpoint, Message& request,
                   Transport::ResponseCallback& done);
};

}  // namespace runnel
