// What a client runs a graph with: DirectSession in this process, or the distributed
// master (distributed/master_session.h) across a cluster's tasks.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/proto/config.pb.h"
#include "core/tensor.h"
#include "runtime/device.h"

namespace runnel {

class Session {
 public:
  virtual ~Session() = default;

  // Prepares (and caches) what Run needs for this signature without running it. The only
  // step that reads the graph, so a caller that grows the graph serializes it with that.
  virtual absl::Status PrepareRun(const std::vector<std::string>& feeds,
                                  const std::vector<std::string>& fetches,
                                  const std::vector<std::string>& targets) = 0;

  // Feeds are (tensor name, value); fetches are tensor names ("x:0" or "x"); targets are
  // node names run for their effects. `options` may ask for a trace in `metadata` (which
  // may be null). Safe to call from several threads at once.
  virtual absl::Status Run(const RunOptions& options,
                           const std::vector<std::pair<std::string, Tensor>>& feeds,
                           const std::vector<std::string>& fetches,
                           const std::vector<std::string>& targets, std::vector<Tensor>* outputs,
                           RunMetadata* metadata) = 0;

  // Every device the session may place nodes on.
  virtual const DeviceSet& devices() const = 0;

  // Ends the session: runs in flight are cancelled where the session can (a distributed
  // one aborts their steps on every task) and waited for; later runs fail.
  virtual void Close() {}
};

}  // namespace runnel
