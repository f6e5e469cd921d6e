// Session options: documented string keys, as ONNX Runtime does, so the C++ API, Python's
// ConfigProto and the command-line tools share one vocabulary.
//
//   inter_op_parallelism_threads  threads running independent nodes (0 = one per core)
//   intra_op_parallelism_threads  threads splitting one big kernel (0 = one per core)
//   allow_soft_placement          place a node elsewhere when its requested device does not
//                                 exist or has no kernel for it (default true)
//   log_device_placement          print each node's device to stderr (default false)
//   device_count.CPU              how many CPU devices to create (default 1)
//   graph_optimization_level      graph passes on each step graph, 0-2 (default 2; see
//                                 runtime/passes/optimizer.h)
//   gpu_options.allow_growth, gpu_options.per_process_gpu_memory_fraction   for GPU devices
//   device_filters, peer_timeout_ms  a distributed session's tasks and how long a silent
//                                 one may take before the run fails (default 5000)
//   operation_timeout_ms          a distributed run's deadline (0 = none)
//   curve_key_dir                 CURVE keys for servers and distributed sessions
//
// A TensorFlow ConfigProto (core/proto/config.proto) maps onto these keys: device_count,
// the thread counts, allow_soft_placement and log_device_placement as they are (an unset
// allow_soft_placement is false there, as in TensorFlow, while a session made without a
// ConfigProto allows soft placement), graph_options.optimizer_options.opt_level L0 as
// level 0, gpu_options, device_filters, operation_timeout_in_ms, and runnel_options key by key.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/proto/config.pb.h"

namespace runnel {

struct SessionOptionDoc {
  std::string key;
  std::string default_value;
  std::string description;
};

class SessionOptions {
 public:
  SessionOptions() = default;
  explicit SessionOptions(std::map<std::string, std::string> config) : config_(std::move(config)) {}

  static const std::vector<SessionOptionDoc>& Documented();

  absl::Status Set(const std::string& key, const std::string& value);
  // Fails on unknown keys (naming the nearest known one) and malformed values.
  absl::Status Validate() const;
  static absl::StatusOr<SessionOptions> FromConfigProto(const ConfigProto& config);
  int64_t GetInt(const std::string& key) const;
  double GetDouble(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  std::string GetString(const std::string& key) const;
  const std::map<std::string, std::string>& config() const { return config_; }

 private:
  std::string Get(const std::string& key) const;
  std::map<std::string, std::string> config_;
};

}  // namespace runnel
