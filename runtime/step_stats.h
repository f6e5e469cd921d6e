// Per-node timings of one step, collected when a caller asks (runnel-run --benchmark, the
// timings of the C++ API's Model::Run): which node ran, how long its kernel took, and the
// shapes it read and wrote (for FLOP counts). Collecting costs two clock reads per node.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace runnel {

struct NodeExecStats {
  std::string node, op;
  int64_t elapsed_ns = 0;
  std::vector<std::vector<int64_t>> input_shapes;
  std::vector<int64_t> output_shape;  // of output 0; empty when it has none
};

class StepStatsCollector {
 public:
  void Record(NodeExecStats stats) {
    std::lock_guard<std::mutex> lock(mu_);
    nodes_.push_back(std::move(stats));
  }
  std::vector<NodeExecStats> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::move(nodes_);
  }

 private:
  std::mutex mu_;
  std::vector<NodeExecStats> nodes_;
};

// Floating-point operations of one run of `op` with these shapes (multiply-adds count
// two): MatMul, BatchMatMul, the convolutions and their fused forms; 0 for other ops.
int64_t EstimateFlops(const std::string& op, const std::vector<std::vector<int64_t>>& input_shapes,
                      const std::vector<int64_t>& output_shape);

}  // namespace runnel
