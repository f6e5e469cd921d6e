// What a session does to a run signature before any executor exists: resolve the names,
// build the step graph, place it, run the graph passes, place what they added, and cut it
// into one partition per device. DirectSession registers the partitions with its
// PartitionRunner; the distributed master (distributed/master_session.h) sends them to the
// tasks that own their devices. Placement is remembered by session-graph node, so a node
// (a variable) keeps its device for every signature.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/graph.h"
#include "runtime/device.h"
#include "runtime/session_options.h"
#include "runtime/step_graph.h"

namespace runnel {

struct PreparedGraph {
  std::map<std::string, std::unique_ptr<Graph>> partitions;  // by full device name
  // Per feed: the dtype and shape the fed tensor must match, and the name it resolved to.
  std::vector<std::pair<DataType, PartialShape>> feed_specs;
  std::vector<std::string> feed_names;
};

class GraphPreparer {
 public:
  // `devices` are the session's; constants fold on `fold_device` (a host CPU device).
  GraphPreparer(const SessionOptions& options, const DeviceSet* devices, Device* fold_device)
      : options_(options), devices_(devices), fold_device_(fold_device) {}

  // Not thread-safe: the caller serializes calls (and growth of `graph`).
  absl::StatusOr<PreparedGraph> Prepare(const Graph& graph, const StepSignature& signature);

 private:
  absl::Status Place(const Graph& graph, Graph* step_graph, const std::vector<int>& origin);
  absl::Status Optimize(const std::vector<std::string>& targets, Graph* step_graph) const;

  const SessionOptions& options_;
  const DeviceSet* devices_;
  Device* fold_device_;
  // The device of each session-graph node placed so far ("" for none yet), by node id.
  std::vector<std::string> placed_;
};

// Checks fed values against a prepared signature's specs: the dtype exactly, the shape
// except the leading (batch) dimension. Errors name the feed.
absl::Status CheckFeeds(const PreparedGraph& prepared,
                        const std::vector<std::pair<std::string, Tensor>>& feeds);

// "feeds|fetches|targets": the key a session caches a prepared signature by.
std::string SignatureKey(const StepSignature& signature);

}  // namespace runnel
