#include "runtime/partition.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "runtime/direct_session.h"
#include "runtime/placer.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::ConstNode;
using testing::MakeGraph;
using testing::MakeNode;
using testing::MakeTensor;
using testing::PlaceholderNode;
using testing::RunGraph;
using testing::Values;

NodeDef On(NodeDef node, const std::string& device) {
  node.set_device(device);
  return node;
}

// Two CPU devices; a, b on cpu:0, the sum and a control-dependent Neg on cpu:1.
GraphDef SplitGraph() {
  return MakeGraph({On(PlaceholderNode("x", DT_FLOAT), "/cpu:0"),
                    On(MakeNode("a", "Square", {"x"}), "/cpu:0"),
                    On(MakeNode("b", "Neg", {"x"}), "/cpu:0"),
                    On(MakeNode("sum", "AddV2", {"a", "b"}), "/device:CPU:1"),
                    On(MakeNode("after", "Identity", {"sum", "^b"}), "/device:CPU:1")});
}

SessionOptions TwoCpus() {
  return SessionOptions(std::map<std::string, std::string>{{"device_count.CPU", "2"}});
}

TEST(Partition, CutEdgesBecomeSendRecvPairs) {
  auto graph = Graph::FromGraphDef(SplitGraph());
  ASSERT_TRUE(graph.ok()) << graph.status();
  SessionOptions options = TwoCpus();
  std::vector<std::unique_ptr<Device>> devices;
  ASSERT_TRUE(DeviceFactory::AddDevices(DeviceEnv{&options, nullptr}, &devices).ok());
  DeviceSet set(std::move(devices));
  ASSERT_TRUE(PlaceGraph(graph->get(), set, false).ok());
  auto parts = PartitionGraph(*std::move(graph), set);
  ASSERT_TRUE(parts.ok()) << parts.status();
  ASSERT_EQ(parts->size(), 2u);
  std::map<std::string, int> ops0, ops1;
  for (const Node* n : parts->at(set.devices()[0]->name())->nodes()) ++ops0[n->type_string()];
  for (const Node* n : parts->at(set.devices()[1]->name())->nodes()) ++ops1[n->type_string()];
  // a and b cross as data; b's control edge crosses as a dummy constant.
  EXPECT_EQ(ops0["_Send"], 3);
  EXPECT_EQ(ops1["_Recv"], 3);
  EXPECT_EQ(ops0["Const"], 1);
  EXPECT_EQ(ops1["AddV2"], 1);
}

TEST(Partition, SplitRunMatchesSingleDeviceRun) {
  Tensor x = MakeTensor<float>({3}, {1, 2, 3});
  auto split = RunGraph(SplitGraph(), {{"x", x}}, {"after", "a"}, TwoCpus());
  ASSERT_TRUE(split.ok()) << split.status();
  EXPECT_EQ(Values<float>((*split)[0]), (std::vector<float>{0, 2, 6}));
  EXPECT_EQ(Values<float>((*split)[1]), (std::vector<float>{1, 4, 9}));
}

TEST(Partition, ErrorInOnePartitionAbortsTheOthers) {
  GraphDef def = MakeGraph({On(PlaceholderNode("x", DT_FLOAT), "/cpu:0"),
                            On(PlaceholderNode("w", DT_FLOAT), "/cpu:0"),
                            On(MakeNode("bad", "MatMul", {"x", "w"}), "/cpu:0"),
                            On(MakeNode("y", "Relu", {"bad"}), "/cpu:1")});
  auto out = RunGraph(
      def, {{"x", Tensor(DT_FLOAT, TensorShape{2, 3})}, {"w", Tensor(DT_FLOAT, TensorShape{2, 3})}},
      {"y"}, TwoCpus());
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument, "[[node bad (MatMul)");
  // Named once: the _Recv that the abort reached does not add itself.
  const std::string message(out.status().message());
  EXPECT_EQ(message.find("[[node"), message.rfind("[[node")) << message;
}

// A failing partition cancels the others: a long independent chain on CPU:0 stops instead
// of running to its end while the step's result is already an error.
TEST(Partition, AFailureCancelsTheOtherPartitionsWork) {
  std::vector<NodeDef> nodes = {On(PlaceholderNode("x", DT_FLOAT), "/cpu:1"),
                                On(PlaceholderNode("w", DT_FLOAT), "/cpu:1"),
                                On(MakeNode("bad", "MatMul", {"x", "w"}), "/cpu:1"),
                                On(PlaceholderNode("m", DT_FLOAT), "/cpu:0")};
  std::string last = "m";
  constexpr int kChain = 400;
  for (int i = 0; i < kChain; ++i) {
    const std::string name = absl::StrCat("mm", i);
    nodes.push_back(On(MakeNode(name, "MatMul", {last, "m"}), "/cpu:0"));
    last = name;
  }
  GraphDef def;
  for (const NodeDef& n : nodes) *def.add_node() = n;
  auto session = DirectSession::Create(def, TwoCpus());
  ASSERT_TRUE(session.ok()) << session.status();
  StepStatsCollector stats;
  std::vector<Tensor> out;
  absl::Status status =
      (*session)->Run({{"x", Tensor(DT_FLOAT, TensorShape{2, 3})},
                       {"w", Tensor(DT_FLOAT, TensorShape{2, 3})},
                       {"m", Tensor(DT_FLOAT, TensorShape{256, 256})}},  // fed: nothing to fold
                      {last}, {"bad"}, &out, &stats);  // no edge between the partitions
  EXPECT_STATUS(status, absl::StatusCode::kInvalidArgument, "[[node bad (MatMul)");
  int chain_nodes_run = 0;
  for (const NodeRunStats& s : stats.Take()) chain_nodes_run += absl::StartsWith(s.node, "mm");
  EXPECT_LT(chain_nodes_run, kChain);
}

TEST(Placer, UnknownDeviceFailsWithoutSoftPlacement) {
  GraphDef def = MakeGraph({On(ConstNode("c", Tensor::Scalar<float>(1)), "/device:GPU:0")});
  auto hard = RunGraph(
      def, {}, {"c"},
      SessionOptions(std::map<std::string, std::string>{{"allow_soft_placement", "false"}}));
  EXPECT_STATUS(hard.status(), absl::StatusCode::kInvalidArgument, "cannot assign a device",
                "'/device:GPU:0'", "[[node c (Const)]]");
  auto soft = RunGraph(def, {}, {"c"});
  ASSERT_TRUE(soft.ok()) << soft.status();
  EXPECT_EQ((*soft)[0].scalar<float>(), 1.0f);
}

TEST(Placer, MalformedDeviceSpecIsAnError) {
  GraphDef def = MakeGraph({On(ConstNode("c", Tensor::Scalar<float>(1)), "/bogus:thing:0")});
  EXPECT_STATUS(RunGraph(def, {}, {"c"}).status(), absl::StatusCode::kInvalidArgument,
                "bad device spec");
}

}  // namespace
}  // namespace runnel
