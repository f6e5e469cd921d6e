#include "distributed/server.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"
#include "distributed/curve_keys.h"

namespace runnel {
namespace {

struct HostPort {
  std::string host, port;
};

absl::StatusOr<HostPort> SplitAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  int port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(address.substr(colon + 1), &port) ||
      port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("address '", address, "' is not host:port with a port from 0 to 65535"));
  }
  return HostPort{address.substr(0, colon), address.substr(colon + 1)};
}

// The interface to listen on: loopback for "localhost", all for "0.0.0.0", "*" or "",
// else the host's IPv4 address.
absl::StatusOr<std::string> BindHost(const std::string& host) {
  if (host == "localhost") return std::string("127.0.0.1");
  if (host.empty() || host == "*" || host == "0.0.0.0") return std::string("*");
  in_addr parsed;
  if (inet_pton(AF_INET, host.c_str(), &parsed) == 1) return host;
  addrinfo hints{};
  hints.ai_family = AF_INET;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("cannot resolve host '", host, "'"));
  }
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(found->ai_addr)->sin_addr, text, sizeof(text));
  freeaddrinfo(found);
  return std::string(text);
}

}  // namespace

absl::StatusOr<std::string> TaskAddress(const ClusterDef& cluster, const std::string& job,
                                        int task) {
  std::vector<std::string> jobs;
  for (const JobDef& j : cluster.job()) {
    jobs.push_back(j.name());
    if (j.name() != job) continue;
    auto it = j.tasks().find(task);
    if (it == j.tasks().end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("job '", job, "' has no task ", task, " (", j.tasks_size(), " tasks)"));
    }
    return it->second;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("the cluster has no job '", job, "' (jobs: ", absl::StrJoin(jobs, ", "), ")"));
}

absl::StatusOr<std::string> EndpointOf(const std::string& target) {
  std::string address = target;
  for (const char* scheme : {"runnel://", "grpc://"}) {
    if (absl::StartsWith(address, scheme)) address = address.substr(std::strlen(scheme));
  }
  if (absl::StrContains(address, "://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("target '", target, "' is not runnel://host:port"));
  }
  ASSIGN_OR_RETURN(HostPort parts, SplitAddress(address));
  if (parts.port == "0") {
    return absl::InvalidArgumentError(absl::StrCat("target '", target, "' has no port"));
  }
  // "localhost" is always loopback (RFC 6761), also where no /etc/hosts says so (minimal
  // containers and chroots), as it is for the servers that bind it.
  const std::string host = parts.host == "localhost" ? "127.0.0.1" : parts.host;
  return absl::StrCat("tcp://", host, ":", parts.port);
}

absl::StatusOr<std::unique_ptr<Server>> Server::Create(ServerDef def) {
  std::unique_ptr<Server> server(new Server(std::move(def)));
  const ServerDef& d = server->def_;
  if (d.job.empty()) return absl::InvalidArgumentError("a server needs a job name");
  ASSIGN_OR_RETURN(server->address_, TaskAddress(d.cluster, d.job, d.task));
  server->task_name_ = absl::StrCat("/job:", d.job, "/replica:0/task:", d.task);
  RETURN_IF_ERROR(LoadCurveKeys(d.options.GetString("curve_key_dir"), &server->def_.transport));
  ASSIGN_OR_RETURN(server->devices_, LocalDevices::Create(d.options, d.job, d.task));
  return server;
}

Server::~Server() { Stop(); }

absl::Status Server::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return absl::FailedPreconditionError(absl::StrCat(task_name_, " was stopped"));
  if (started_) return absl::OkStatus();
  ASSIGN_OR_RETURN(HostPort parts, SplitAddress(address_));
  ASSIGN_OR_RETURN(std::string host, BindHost(parts.host));
  ASSIGN_OR_RETURN(transport_, Transport::Create(def_.transport));
  const ClusterDef* cluster = &def_.cluster;
  TaskResolver resolve = [cluster](const std::string& task) -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(DeviceName name, DeviceName::Parse(task));
    ASSIGN_OR_RETURN(std::string address, TaskAddress(*cluster, name.job, name.task));
    return EndpointOf(address);
  };
  worker_ = std::make_unique<Worker>(task_name_, devices_, transport_.get(), resolve, def_.cluster);
  Worker* worker = worker_.get();
  ASSIGN_OR_RETURN(
      std::string bound,
      transport_->Bind(absl::StrCat("tcp://", host, ":", parts.port == "0" ? "*" : parts.port),
                       [worker](Message request, Transport::Responder respond) {
                         worker->Handle(std::move(request), std::move(respond));
                       }));
  if (parts.port == "0") {
    // The cluster names the port bound, so target() and the other tasks can reach it.
    address_ = absl::StrCat(parts.host, ":", bound.substr(bound.rfind(':') + 1));
    for (JobDef& job : *def_.cluster.mutable_job()) {
      if (job.name() == def_.job) (*job.mutable_tasks())[def_.task] = address_;
    }
  }
  if (def_.transport.server_secret_key.empty() && host != "127.0.0.1") {
    std::fprintf(stderr,
                 "runnel: %s listens on %s without CURVE keys: anyone who can reach it may run "
                 "graphs there (make keys with runnel-server --keygen)\n",
                 task_name_.c_str(), bound.c_str());
  }
  ASSIGN_OR_RETURN(local_endpoint_, EndpointOf(address_));
  LocalWorkers::Add(local_endpoint_, worker, transport_);
  started_ = true;
  return absl::OkStatus();
}

void Server::Stop() {
  std::lock_guard<std::mutex> lock(mu_);
  if (!local_endpoint_.empty()) LocalWorkers::Remove(local_endpoint_);  // nor a local call
  if (transport_ != nullptr) transport_->Shutdown();  // no handler runs after this
  worker_.reset();                                    // aborts its steps and waits for them
  transport_.reset();
  stopped_ = true;
  stopped_cv_.notify_all();
}

void Server::Join() {
  std::unique_lock<std::mutex> lock(mu_);
  stopped_cv_.wait(lock, [this] { return stopped_; });
}

std::string Server::target() const { return absl::StrCat("runnel://", address_); }

}  // namespace runnel
