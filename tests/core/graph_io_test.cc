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

TEST(GraphIo, MoreThanFourMillionNodesAreRefusedBeforeParsing) {
  // 2^22 + 1 empty nodes: 8 MB of bytes that would parse into ~1 GB of messages.
  std::string bytes;
  for (int i = 0; i <= (1 << 22); ++i) bytes += std::string("\x0a\x00", 2);
  EXPECT_STATUS(ParseGraphDef(bytes, "many.pb").status(), absl::StatusCode::kResourceExhausted,
                "the GraphDef from many.pb has 4194305 nodes; a graph may have at most 4194304");
  EXPECT_STATUS(ParseGraphDefAnyFormat(bytes, "many.pb").status(),
                absl::StatusCode::kResourceExhausted, "has 4194305 nodes");
  bytes.resize(bytes.size() - 2);
  auto graph = ParseGraphDef(bytes);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ(graph->node_size(), 1 << 22);
}

// An attr holding a function whose attr holds a function ...: each level is a recursion
// wherever the graph is read or printed.
std::string NestedText(int depth) {
  std::string text = "node { name: \"f\" op: \"NoOp\" ";
  for (int i = 0; i < depth; ++i) text += "attr { key: \"a\" value { func { name: \"g\" ";
  for (int i = 0; i < depth; ++i) text += "} } } ";
  return text + "}";
}

TEST(GraphIo, AttrsNestedDeeperThanAHundredAreErrors) {
  auto shallow = ParseGraphDefAnyFormat(NestedText(30));
  ASSERT_TRUE(shallow.ok()) << shallow.status();
  std::string bytes;
  shallow->SerializeToString(&bytes);
  EXPECT_TRUE(ParseGraphDef(bytes).ok());
  EXPECT_STATUS(ParseGraphDefAnyFormat(NestedText(100000), "deep.pbtxt").status(),
                absl::StatusCode::kInvalidArgument,
                "could not parse a GraphDef from deep.pbtxt in binary or text format (nested at "
                "most 100 deep)");
  GraphDef deep;  // protobuf writes any depth, and reads back at most 100
  AttrValue* value = &(*deep.add_node()->mutable_attr())["a"];
  for (int i = 0; i < 150; ++i) value = &(*value->mutable_func()->mutable_attr())["a"];
  deep.SerializeToString(&bytes);
  EXPECT_STATUS(ParseGraphDef(bytes, "deep.pb").status(), absl::StatusCode::kInvalidArgument,
                "nested deeper than 100");
}

TEST(GraphIo, MissingFileIsNotFound) {
  EXPECT_STATUS(ReadGraphDef(TempPath("does_not_exist.pb")).status(), absl::StatusCode::kNotFound,
                "cannot open graph file");
}

}  // namespace
}  // namespace runnel
