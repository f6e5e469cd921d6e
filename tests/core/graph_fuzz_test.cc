// Hostile GraphDefs: thousands of random mutations of a valid graph must each parse and
// build into a graph or fail with a status; none may crash (run under ASan to see more).
#include <cstdio>
#include <random>

#include "core/graph.h"
#include "core/graph_io.h"
#include "google/protobuf/stubs/logging.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::ConstNode;
using testing::MakeNode;
using testing::MakeTensor;
using testing::PlaceholderNode;

std::string SeedGraph() {
  GraphDef g = testing::MakeGraph(
      {PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 4}),
       ConstNode("w", MakeTensor<float>({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8})),
       ConstNode("shape", MakeTensor<int32_t>({2}, {-1, 2})),
       ConstNode("perm", MakeTensor<int32_t>({2}, {1, 0})),
       ConstNode("axis", Tensor::Scalar<int32_t>(1)),
       ConstNode("begin", MakeTensor<int32_t>({2}, {0, 1})), MakeNode("mm", "MatMul", {"x", "w"}),
       MakeNode("r", "Reshape", {"mm", "shape"}), MakeNode("t", "Transpose", {"r", "perm"}),
       MakeNode("s", "Sum", {"t", "axis"}), MakeNode("c", "ConcatV2", {"r", "r", "axis"}),
       MakeNode("ss", "StridedSlice", {"c", "begin", "begin", "begin"},
                {{"shrink_axis_mask", MakeAttr(int64_t{1})}}),
       MakeNode("e", "ExpandDims", {"s", "axis"}), MakeNode("sq", "Squeeze", {"e"}),
       MakeNode("p", "Pack", {"sq", "sq"}), MakeNode("sm", "Softmax", {"mm"})});
  std::string bytes;
  g.SerializeToString(&bytes);
  return bytes;
}

TEST(GraphFuzz, MutatedGraphsFailCleanly) {
  const std::string seed = SeedGraph();
  std::mt19937 rng(1234);
  int parsed = 0, built = 0;
  google::protobuf::SetLogHandler(nullptr);  // bad UTF-8 in names is logged, not fatal
  for (int iter = 0; iter < 20000; ++iter) {
    std::string bytes = seed;
    const int edits = rng() % 4 == 0 ? 2 : 1;
    for (int k = 0; k < edits; ++k) {
      size_t pos = rng() % bytes.size();
      switch (rng() % 3) {
        case 0:
          bytes[pos] = static_cast<char>(rng());
          break;  // flip a byte
        case 1:
          bytes.erase(pos, 1 + rng() % 8);
          break;  // drop a few
        case 2:
          bytes.insert(pos, 1, static_cast<char>(rng()));
          break;  // add one
      }
      if (bytes.empty()) bytes = seed;
    }
    auto def = ParseGraphDef(bytes);
    if (!def.ok()) continue;
    ++parsed;
    auto graph = Graph::FromGraphDef(*def);
    if (graph.ok()) ++built;
  }
  // The mutations must have exercised both paths.
  EXPECT_GT(parsed, 1000);
  EXPECT_GT(built, 20);
  std::printf("%d of 20000 mutants parsed, %d built\n", parsed, built);
}

}  // namespace
}  // namespace runnel
