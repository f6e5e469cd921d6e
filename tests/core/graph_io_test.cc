#include "core/graph_io.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

GraphDef Small() {
  return testing::MakeGraph(
      {testing::ConstNode("a", Tensor::Scalar<float>(1)), testing::MakeNode("b", "Neg", {"a"})});
}

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("runnel_graph_io_" + name)).string();
}

TEST(GraphIo, ParsesBinaryBytes) {
  std::string bytes;
  Small().SerializeToString(&bytes);
  auto graph = ParseGraphDef(bytes);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->node(1).op(), "Neg");
}

TEST(GraphIo, GarbageAndTruncatedBytesAreErrors) {
  std::string bytes;
  Small().SerializeToString(&bytes);
  EXPECT_STATUS(ParseGraphDef(bytes.substr(0, bytes.size() / 2), "half.pb").status(),
                absl::StatusCode::kInvalidArgument, "could not parse GraphDef from half.pb");
  EXPECT_STATUS(ParseGraphDef(std::string("\xff\xff\xff\xff\x0f", 5)).status(),
                absl::StatusCode::kInvalidArgument, "not a valid binary GraphDef");
}

TEST(GraphIo, ReadsBinaryAndTextFiles) {
  std::string bin = TempPath("g.pb"), text = TempPath("g.pbtxt");
  {
    std::ofstream out(bin, std::ios::binary);
    Small().SerializeToOstream(&out);
    std::ofstream t(text);
    t << Small().DebugString();
  }
  auto a = ReadGraphDef(bin);
  auto b = ReadGraphDef(text);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->node_size(), 2);
  EXPECT_EQ(b->node(0).name(), "a");
  std::remove(bin.c_str());
  std::remove(text.c_str());
}

TEST(GraphIo, MissingFileIsNotFound) {
  EXPECT_STATUS(ReadGraphDef(TempPath("does_not_exist.pb")).status(), absl::StatusCode::kNotFound,
                "cannot open graph file");
}

}  // namespace
}  // namespace runnel
