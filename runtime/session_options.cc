#include "runtime/session_options.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/op_registry.h"
#include "core/status.h"

namespace runnel {

const std::vector<SessionOptionDoc>& SessionOptions::Documented() {
  static const auto* docs = new std::vector<SessionOptionDoc>{
      {"inter_op_parallelism_threads", "0", "threads running independent nodes (0 = one per core)"},
      {"intra_op_parallelism_threads", "0", "threads splitting one big kernel (0 = one per core)"},
      {"allow_soft_placement", "true",
       "place a node elsewhere when its requested device is missing or lacks a kernel"},
      {"log_device_placement", "false", "print each node's device to stderr"},
      {"device_count.CPU", "1", "how many CPU devices to create"},
      {"graph_optimization_level", "2",
       "graph passes run on each step's graph: 0 none; 1 identity elimination, constant "
       "folding, common-subexpression elimination, pruning; 2 also batch-norm folding and "
       "fused bias + activation kernels"},
      {"gpu_options.allow_growth", "false",
       "a GPU device reserves memory as it needs it rather than all at the start"},
      {"gpu_options.per_process_gpu_memory_fraction", "0.0",
       "the fraction of each GPU's memory a GPU device reserves (0: the default)"},
      {"device_filters", "",
       "distributed: the tasks a session uses, comma-separated device specs (\"/job:ps,"
       "/job:worker/task:1\"; empty: every task of the cluster)"},
      {"peer_timeout_ms", "5000",
       "distributed: a task that does not answer for this long fails the run with "
       "UnavailableError naming it"},
      {"curve_key_dir", "",
       "distributed: a directory of CURVE keys (runnel-server --keygen DIR): a server "
       "requires them of its clients, a session presents them"},
      {"operation_timeout_ms", "0",
       "distributed: a run that takes longer fails with DeadlineExceededError (0: no limit)"},
  };
  return *docs;
}

absl::Status SessionOptions::Set(const std::string& key, const std::string& value) {
  config_[key] = value;
  return Validate();
}

std::string SessionOptions::Get(const std::string& key) const {
  auto it = config_.find(key);
  if (it != config_.end()) return it->second;
  for (const auto& doc : Documented()) {
    if (doc.key == key) return doc.default_value;
  }
  return "";
}

absl::Status SessionOptions::Validate() const {
  for (const auto& [key, value] : config_) {
    const SessionOptionDoc* doc = nullptr;
    std::vector<std::string> known;
    for (const auto& d : Documented()) {
      known.push_back(d.key);
      if (d.key == key ||
          (absl::StartsWith(key, "device_count.") && absl::StartsWith(d.key, "device_count."))) {
        doc = &d;
      }
    }
    if (doc == nullptr) {
      std::string nearest = NearestName(key, known);
      return absl::InvalidArgumentError(
          absl::StrCat("unknown session option '", key, "'",
                       nearest.empty() ? "" : absl::StrCat("; did you mean '", nearest, "'?")));
    }
    if (doc->default_value.empty()) continue;  // a string
    // A default's form gives the kind: true/false, 0.0 (a fraction) or an integer.
    const bool is_bool = doc->default_value == "true" || doc->default_value == "false";
    const bool is_fraction = absl::StrContains(doc->default_value, ".");
    int64_t n = 0;
    double x = 0;
    bool ok = is_bool       ? (value == "true" || value == "false" || value == "1" || value == "0")
              : is_fraction ? (absl::SimpleAtod(value, &x) && x >= 0 && x <= 1)
                            : (absl::SimpleAtoi(value, &n) && n >= 0);
    if (ok && key == "graph_optimization_level") ok = n <= 2;
    if (!ok) {
      if (key == "graph_optimization_level") {
        return absl::InvalidArgumentError(absl::StrCat(
            "session option 'graph_optimization_level' must be 0, 1 or 2, got '", value, "'"));
      }
      return absl::InvalidArgumentError(absl::StrCat("session option '", key, "' must be ",
                                                     is_bool       ? "true or false"
                                                     : is_fraction ? "a number from 0 to 1"
                                                                   : "a non-negative integer",
                                                     ", got '", value, "'"));
    }
  }
  return absl::OkStatus();
}

int64_t SessionOptions::GetInt(const std::string& key) const {
  int64_t n = 0;
  (void)absl::SimpleAtoi(Get(key), &n);
  return n;
}

double SessionOptions::GetDouble(const std::string& key) const {
  double x = 0;
  (void)absl::SimpleAtod(Get(key), &x);
  return x;
}

absl::StatusOr<SessionOptions> SessionOptions::FromConfigProto(const ConfigProto& config) {
  SessionOptions options;
  auto& c = options.config_;
  for (const auto& [type, count] : config.device_count()) {
    c[absl::StrCat("device_count.", type)] = absl::StrCat(count);
  }
  c["intra_op_parallelism_threads"] = absl::StrCat(config.intra_op_parallelism_threads());
  c["inter_op_parallelism_threads"] = absl::StrCat(config.inter_op_parallelism_threads());
  c["allow_soft_placement"] = config.allow_soft_placement() ? "true" : "false";
  c["log_device_placement"] = config.log_device_placement() ? "true" : "false";
  if (config.graph_options().optimizer_options().opt_level() == OptimizerOptions::L0) {
    c["graph_optimization_level"] = "0";
  }
  const GPUOptions& gpu = config.gpu_options();
  c["gpu_options.allow_growth"] = gpu.allow_growth() ? "true" : "false";
  c["gpu_options.per_process_gpu_memory_fraction"] =
      absl::StrCat(gpu.per_process_gpu_memory_fraction());
  if (config.device_filters_size() > 0) {
    c["device_filters"] = absl::StrJoin(config.device_filters(), ",");
  }
  if (config.operation_timeout_in_ms() > 0) {
    c["operation_timeout_ms"] = absl::StrCat(config.operation_timeout_in_ms());
  }
  for (const auto& [key, value] : config.runnel_options()) c[key] = value;
  RETURN_IF_ERROR(options.Validate());
  return options;
}

bool SessionOptions::GetBool(const std::string& key) const {
  std::string v = Get(key);
  return v == "true" || v == "1";
}

std::string SessionOptions::GetString(const std::string& key) const { return Get(key); }

}  // namespace runnel
