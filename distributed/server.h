// A Runnel server: one task of a cluster. It owns the task's devices (and so its
// variables, which outlive every session), a worker service answering the worker protocol,
// and the transport it listens on. `runnel-server` and Python's tf.train.Server run one.
//
// It listens on the interface its cluster entry names ("localhost:2222" binds loopback
// only; "0.0.0.0:2222" every interface), with port 0 picking a free port. A server
// reachable from other machines should have CURVE keys; without them it warns once.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "core/proto/cluster.pb.h"
#include "distributed/transport.h"
#include "distributed/worker.h"
#include "runtime/device.h"
#include "runtime/session_options.h"

namespace runnel {

struct ServerDef {
  ClusterDef cluster;
  std::string job;
  int task = 0;
  SessionOptions options;      // the task's devices and threads
  TransportOptions transport;  // CURVE keys, timeouts
};

class Server {
 public:
  // Validates `def` and makes the devices; Start() listens.
  static absl::StatusOr<std::unique_ptr<Server>> Create(ServerDef def);
  ~Server();

  absl::Status Start();
  // Stops serving: requests are no longer read, the task's steps abort, Join() returns.
  // The devices (and variables) stay until the server is destroyed.
  void Stop();
  // Waits until Stop().
  void Join();

  // "runnel://host:port": what tf.Session takes to run on this cluster through this task.
  std::string target() const;
  // The cluster, with this task's address as bound (its port filled in when it was 0).
  const ClusterDef& cluster() const { return def_.cluster; }
  const std::string& task_name() const { return task_name_; }
  const std::shared_ptr<LocalDevices>& devices() const { return devices_; }
  Worker* worker() const { return worker_.get(); }  // null unless started

 private:
  explicit Server(ServerDef def) : def_(std::move(def)) {}

  ServerDef def_;
  std::string task_name_;       // "/job:ps/replica:0/task:0"
  std::string address_;         // "host:port" from the cluster
  std::string local_endpoint_;  // where this process's masters find the worker, once started
  std::shared_ptr<LocalDevices> devices_;
  std::shared_ptr<Transport> transport_;  // shared with sessions on this server's target
  std::unique_ptr<Worker> worker_;
  std::mutex mu_;
  std::condition_variable stopped_cv_;
  bool started_ = false, stopped_ = false;
};

// "host:port" of a task in `cluster`, or an error naming what exists.
absl::StatusOr<std::string> TaskAddress(const ClusterDef& cluster, const std::string& job,
                                        int task);
// The ZeroMQ endpoint a client connects to for "host:port" or "runnel://host:port"
// ("grpc://" is accepted too, so TensorFlow scripts' targets work unchanged).
absl::StatusOr<std::string> EndpointOf(const std::string& target);

}  // namespace runnel
