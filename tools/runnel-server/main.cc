// runnel-server: runs one task of a cluster until SIGTERM or SIGINT.
//
//   runnel-server --cluster "ps=localhost:2222;worker=localhost:2223,localhost:2224"
//                 --job worker --task 1 [--keys DIR] [--config key=value ...]
//   runnel-server --keygen DIR      writes a cluster's CURVE keys (distributed/curve_keys.h)
//
// A client then runs graphs there with tf.Session("runnel://localhost:2223").
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "distributed/curve_keys.h"
#include "distributed/server.h"

namespace {

constexpr char kUsage[] =
    "usage: runnel-server --cluster SPEC --job NAME --task INDEX [--keys DIR] "
    "[--config key=value ...]\n"
    "       runnel-server --keygen DIR\n"
    "SPEC: job=host:port,host:port;job=host:port (task i of a job is its i-th address)\n";

int Fail(const std::string& message) {
  std::fprintf(stderr, "runnel-server: %s\n%s", message.c_str(), kUsage);
  return 2;
}

bool ParseCluster(const std::string& spec, runnel::ClusterDef* cluster) {
  for (absl::string_view job : absl::StrSplit(spec, ';', absl::SkipWhitespace())) {
    std::vector<std::string> parts = absl::StrSplit(job, absl::MaxSplits('=', 1));
    if (parts.size() != 2 || parts[0].empty()) return false;
    runnel::JobDef* def = cluster->add_job();
    def->set_name(parts[0]);
    int index = 0;
    for (absl::string_view address : absl::StrSplit(parts[1], ',', absl::SkipWhitespace())) {
      (*def->mutable_tasks())[index++] = std::string(address);
    }
    if (index == 0) return false;
  }
  return cluster->job_size() > 0;
}

}  // namespace

int main(int argc, char** argv) {
  runnel::ServerDef def;
  bool have_cluster = false, have_task = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--keygen" && has_value) {
      const absl::Status status = runnel::WriteCurveKeys(argv[++i]);
      if (!status.ok()) return Fail(std::string(status.message()));
      std::printf("wrote CURVE keys to %s: copy the directory to every member of the cluster\n",
                  argv[i]);
      return 0;
    } else if (arg == "--cluster" && has_value) {
      if (!ParseCluster(argv[++i], &def.cluster)) return Fail("cannot parse --cluster");
      have_cluster = true;
    } else if (arg == "--job" && has_value) {
      def.job = argv[++i];
    } else if (arg == "--task" && has_value) {
      if (!absl::SimpleAtoi(argv[++i], &def.task) || def.task < 0) {
        return Fail("--task takes a task index");
      }
      have_task = true;
    } else if (arg == "--keys" && has_value) {
      const absl::Status status = def.options.Set("curve_key_dir", argv[++i]);
      if (!status.ok()) return Fail(std::string(status.message()));
    } else if (arg == "--config" && has_value) {
      std::vector<std::string> kv = absl::StrSplit(argv[++i], absl::MaxSplits('=', 1));
      if (kv.size() != 2) return Fail("--config takes key=value");
      const absl::Status status = def.options.Set(kv[0], kv[1]);
      if (!status.ok()) return Fail(std::string(status.message()));
    } else {
      return Fail("unknown or incomplete argument '" + arg + "'");
    }
  }
  if (!have_cluster || def.job.empty() || !have_task) {
    return Fail("--cluster, --job and --task are required");
  }
  // SIGTERM and SIGINT are taken by a thread that stops the server; Join then returns.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto server = runnel::Server::Create(def);
  if (!server.ok()) return Fail(std::string(server.status().message()));
  absl::Status status = (*server)->Start();
  if (!status.ok()) {
    std::fprintf(stderr, "runnel-server: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  std::fprintf(stderr, "runnel-server: %s serving at %s\n", (*server)->task_name().c_str(),
               (*server)->target().c_str());
  runnel::Server* running = server->get();
  std::thread waiter([&signals, running] {
    int signal = 0;
    sigwait(&signals, &signal);
    running->Stop();
  });
  running->Join();
  waiter.join();
  server->reset();
  std::fprintf(stderr, "runnel-server: stopped\n");
  return 0;
}
