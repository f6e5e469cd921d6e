// Graph-in/graph-out helpers for the graph pass tests: run one pass, look at the result,
// and check that the rewritten graph computes what the original did.
#pragma once

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "runtime/device.h"
#include "runtime/passes/graph_pass.h"
#include "runtime/threadpool.h"
#include "tests/test_util.h"

namespace runnel::testing {

// A host device for constant folding, made by the device factory.
inline Device* TestDevice() {
  static auto* pool = new WorkerThreadPool("test_passes", 1);
  static Device* device = CreateHostDevice(pool).value().release();
  return device;
}

// Runs `pass` on `graph` as a Graph (built without shapes, as a session's step graph is)
// and returns the result as a GraphDef.
inline GraphDef RunPass(GraphPass* pass, const GraphDef& graph, std::vector<std::string> keep) {
  PassContext ctx;
  ctx.keep.insert(keep.begin(), keep.end());
  ctx.evaluate = ComputeOnceOn(TestDevice());
  auto built = Graph::FromGraphDef(graph, GraphBuildOptions{/*infer_shapes=*/false});
  EXPECT_TRUE(built.ok()) << built.status();
  if (!built.ok()) return graph;
  absl::Status status = pass->Run(ctx, built->get());
  EXPECT_TRUE(status.ok()) << status;
  GraphDef out;
  (*built)->ToGraphDef(&out);
  return out;
}

inline const NodeDef* FindNode(const GraphDef& graph, const std::string& name) {
  for (const NodeDef& node : graph.node()) {
    if (node.name() == name) return &node;
  }
  return nullptr;
}

inline int CountOps(const GraphDef& graph, const std::string& op) {
  int n = 0;
  for (const NodeDef& node : graph.node()) n += node.op() == op;
  return n;
}

inline Tensor RandomFloats(const TensorShape& shape, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(-1, 1);
  Tensor t(DT_FLOAT, shape);
  for (int64_t i = 0; i < t.NumElements(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

// Expects `got` to hold `expected`'s values: float and double within `tolerance` (relative),
// strings and every other dtype exactly.
inline void ExpectSameValues(const Tensor& expected, const Tensor& got, const std::string& name,
                             double tolerance) {
  ASSERT_EQ(expected.shape(), got.shape())
      << name << ": " << expected.shape().DebugString() << " vs " << got.shape().DebugString();
  ASSERT_EQ(expected.dtype(), got.dtype()) << name;
  const size_t size = DataTypeSize(expected.dtype());
  for (int64_t k = 0; k < expected.NumElements(); ++k) {
    switch (expected.dtype()) {
      case DT_FLOAT: {
        const float e = expected.data<float>()[k];
        EXPECT_NEAR(e, got.data<float>()[k], tolerance * (1 + std::abs(e)))
            << name << "[" << k << "]";
        break;
      }
      case DT_DOUBLE: {
        const double e = expected.data<double>()[k];
        EXPECT_NEAR(e, got.data<double>()[k], tolerance * (1 + std::abs(e)))
            << name << "[" << k << "]";
        break;
      }
      case DT_STRING:
        EXPECT_EQ(expected.data<std::string>()[k], got.data<std::string>()[k])
            << name << "[" << k << "]";
        break;
      default:
        EXPECT_EQ(0, std::memcmp(static_cast<const char*>(expected.raw_data()) + k * size,
                                 static_cast<const char*>(got.raw_data()) + k * size, size))
            << name << "[" << k << "]: " << expected.DebugString() << " vs " << got.DebugString();
    }
  }
}

// Runs both graphs without the session's own passes and compares the fetches.
inline void ExpectSameOutputs(const GraphDef& before, const GraphDef& after,
                              const std::vector<std::pair<std::string, Tensor>>& feeds,
                              const std::vector<std::string>& fetches, double tolerance = 1e-5) {
  SessionOptions options(std::map<std::string, std::string>{{"graph_optimization_level", "0"}});
  auto expected = RunGraph(before, feeds, fetches, options);
  auto got = RunGraph(after, feeds, fetches, options);
  ASSERT_TRUE(expected.ok()) << expected.status();
  ASSERT_TRUE(got.ok()) << got.status();
  for (size_t i = 0; i < fetches.size(); ++i) {
    ExpectSameValues((*expected)[i], (*got)[i], fetches[i], tolerance);
  }
}

}  // namespace runnel::testing
