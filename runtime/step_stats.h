// Per-node timings of one step, collected when a caller asks (runnel-run --benchmark, the
// timings of the C++ API's Model::Run, RunOptions' trace_level for RunMetadata.step_stats):
// which node ran where, when and for how long, and the shapes it read and wrote (for FLOP
// counts). Collecting costs three clock reads per node.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "core/proto/step_stats.pb.h"
#include "core/tensor.h"

namespace runnel {

struct NodeRunStats {
  std::string node, op, device;
  int64_t start_ns = 0;    // wall clock, since the epoch
  int64_t elapsed_ns = 0;  // of the kernel (an asynchronous one: until its callback)
  std::vector<std::vector<int64_t>> input_shapes;
  // Per output: dtype and shape (DT_INVALID for one left unset, such as a Switch's other side).
  std::vector<std::pair<DataType, std::vector<int64_t>>> outputs;
  // Where the device's allocator keeps count: its name, the bytes of this node's outputs
  // in its memory, and all it holds after the node.
  std::string allocator;
  int64_t output_bytes = 0, allocator_bytes_in_use = 0;
  const std::vector<int64_t>& output_shape() const {  // of output 0; empty when none
    static const std::vector<int64_t> kNone;
    return outputs.empty() ? kNone : outputs[0].second;
  }
};

class StepStatsCollector {
 public:
  void Record(NodeRunStats stats) {
    std::lock_guard<std::mutex> lock(mu_);
    nodes_.push_back(std::move(stats));
  }
  std::vector<NodeRunStats> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(nodes_);
  }

 private:
  std::mutex mu_;
  std::vector<NodeRunStats> nodes_;
};

// The collected stats as TensorFlow's StepStats: one DeviceStepStats per device, each node
// with its start, duration, outputs and timeline label ("name = Op").
StepStats ToStepStats(const std::vector<NodeRunStats>& nodes);

// A step's stats in Chrome's trace event format (what chrome://tracing and Perfetto open,
// and TensorFlow's timeline.Timeline writes): a process per device, an "X" event per node
// named by its op, with the node's name in args; nodes that overlap on a device go to
// separate rows (tid), the first row free when each starts.
std::string ChromeTrace(const StepStats& stats);

// Floating-point operations of one run of `op` with these shapes (multiply-adds count
// two): MatMul, BatchMatMul, the convolutions and their fused forms; 0 for other ops.
int64_t EstimateFlops(const std::string& op, const std::vector<std::vector<int64_t>>& input_shapes,
                      const std::vector<int64_t>& output_shape);

}  // namespace runnel
