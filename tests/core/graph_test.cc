#include "core/graph.h"

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::ConstNode;
using testing::MakeGraph;
using testing::MakeNode;
using testing::MakeTensor;
using testing::PlaceholderNode;

absl::Status Build(const GraphDef& def) { return Graph::FromGraphDef(def).status(); }

TEST(Graph, NodesMayComeInAnyOrder) {
  GraphDef def = MakeGraph({MakeNode("sum", "AddV2", {"a", "b"}),
                            ConstNode("a", MakeTensor<float>({2}, {1, 2})),
                            ConstNode("b", MakeTensor<float>({2}, {3, 4}))});
  auto graph = Graph::FromGraphDef(def);
  ASSERT_TRUE(graph.ok()) << graph.status();
  Node* sum = (*graph)->FindNode("sum");
  ASSERT_NE(sum, nullptr);
  EXPECT_EQ(sum->output_type(0), DT_FLOAT);  // T inferred from the inputs
  EXPECT_EQ(sum->output_shape(0).DebugString(), "[2]");
}

TEST(Graph, DefaultsAreFilledAndUnknownAttrsKept) {
  NodeDef mm = MakeNode("mm", "MatMul", {"a", "a"}, {{"_output_shapes", MakeAttr(int64_t{7})}});
  auto graph = Graph::FromGraphDef(MakeGraph({ConstNode("a", MakeTensor<float>({1, 1}, {2})), mm}));
  ASSERT_TRUE(graph.ok()) << graph.status();
  const NodeDef& def = (*graph)->FindNode("mm")->def();
  EXPECT_FALSE(def.attr().at("transpose_a").b());
  EXPECT_EQ(def.attr().at("_output_shapes").i(), 7);
}

TEST(Graph, UnknownOpNamesTheNodeAndSuggests) {
  EXPECT_STATUS(Build(MakeGraph({MakeNode("act", "Reul", {})})), absl::StatusCode::kNotFound,
                "unknown op 'Reul'", "did you mean 'Relu'?", "[[node act (Reul)]]");
}

TEST(Graph, MissingInputNamesTheNode) {
  EXPECT_STATUS(Build(MakeGraph({MakeNode("y", "Relu", {"x"})})),
                absl::StatusCode::kInvalidArgument, "names node 'x'", "not in the graph",
                "[[node y (Relu)]]");
}

TEST(Graph, BadPortNamesTheProducer) {
  GraphDef def =
      MakeGraph({ConstNode("a", MakeTensor<float>({1}, {1})), MakeNode("y", "Relu", {"a:3"})});
  EXPECT_STATUS(Build(def), absl::StatusCode::kInvalidArgument, "asks for output 3",
                "node 'a' (Const), which has 1 output", "[[node y (Relu)]]");
}

TEST(Graph, CycleIsReportedWithItsPath) {
  GraphDef def = MakeGraph({MakeNode("a", "Identity", {"b"}, {{"T", MakeAttr(DT_FLOAT)}}),
                            MakeNode("b", "Identity", {"a"}, {{"T", MakeAttr(DT_FLOAT)}})});
  EXPECT_STATUS(Build(def), absl::StatusCode::kInvalidArgument, "cycle", "a -> b");
}

TEST(Graph, AttrOfTheWrongTypeIsAnError) {
  NodeDef mm = MakeNode("mm", "MatMul", {"a", "a"}, {{"transpose_a", MakeAttr(int64_t{1})}});
  EXPECT_STATUS(Build(MakeGraph({ConstNode("a", MakeTensor<float>({1, 1}, {2})), mm})),
                absl::StatusCode::kInvalidArgument, "attr 'transpose_a' should be of type bool",
                "[[node mm (MatMul)]]");
}

TEST(Graph, MissingRequiredAttrIsAnError) {
  EXPECT_STATUS(Build(MakeGraph({MakeNode("p", "Placeholder")})),
                absl::StatusCode::kInvalidArgument, "missing required attr 'dtype'",
                "[[node p (Placeholder)]]");
}

TEST(Graph, DisallowedTypeIsAnError) {
  GraphDef def =
      MakeGraph({ConstNode("a", MakeTensor<bool>({1}, {true})), MakeNode("y", "Sqrt", {"a"})});
  EXPECT_STATUS(Build(def), absl::StatusCode::kInvalidArgument, "attr 'T' is bool",
                "must be one of");
}

TEST(Graph, InputOfTheWrongDtypeIsAnError) {
  GraphDef def = MakeGraph({ConstNode("a", MakeTensor<float>({1}, {1})),
                            ConstNode("b", MakeTensor<int32_t>({1}, {1})),
                            MakeNode("y", "AddV2", {"a", "b"}, {{"T", MakeAttr(DT_FLOAT)}})});
  EXPECT_STATUS(Build(def), absl::StatusCode::kInvalidArgument, "input 1 ('b') is int32",
                "expected float");
}

TEST(Graph, DuplicateNamesAreAnError) {
  GraphDef def = MakeGraph(
      {ConstNode("a", MakeTensor<float>({1}, {1})), ConstNode("a", MakeTensor<float>({1}, {2}))});
  EXPECT_STATUS(Build(def), absl::StatusCode::kInvalidArgument, "duplicate node name 'a'");
}

TEST(Graph, ShapeErrorsAreCaughtWhileBuilding) {
  GraphDef def = MakeGraph({ConstNode("a", MakeTensor<float>({2, 3}, {1, 2, 3, 4, 5, 6})),
                            MakeNode("mm", "MatMul", {"a", "a"})});
  EXPECT_STATUS(Build(def), absl::StatusCode::kInvalidArgument, "inner dimensions differ", "[2,3]",
                "[[node mm (MatMul)]]");
}

TEST(Graph, ExtendIsAllOrNothing) {
  auto graph = Graph::FromGraphDef(MakeGraph({ConstNode("a", MakeTensor<float>({1}, {1}))}));
  ASSERT_TRUE(graph.ok());
  GraphDef more = MakeGraph({MakeNode("b", "Relu", {"a"}), MakeNode("c", "Reul", {"b"})});
  EXPECT_FALSE((*graph)->Extend(more).ok());
  EXPECT_EQ((*graph)->num_nodes(), 1);
  EXPECT_EQ((*graph)->FindNode("b"), nullptr);
}

TEST(Graph, GraphDefRoundTripKeepsNodesAndInputs) {
  GraphDef def = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 3}),
                            MakeNode("y", "Relu", {"x"}), MakeNode("z", "Identity", {"y", "^x"})});
  auto graph = Graph::FromGraphDef(def);
  ASSERT_TRUE(graph.ok()) << graph.status();
  GraphDef out;
  (*graph)->ToGraphDef(&out);
  ASSERT_EQ(out.node_size(), 3);
  EXPECT_EQ(out.node(2).input(0), "y");
  EXPECT_EQ(out.node(2).input(1), "^x");
  EXPECT_EQ((*graph)->FindNode("z")->output_shape(0).DebugString(), "[?,3]");
  EXPECT_GT(out.versions().producer(), 0);
}

TEST(Graph, ReshapeInfersTheMinusOneDim) {
  GraphDef def = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{4, 6}),
                            ConstNode("s", MakeTensor<int32_t>({2}, {-1, 3})),
                            MakeNode("r", "Reshape", {"x", "s"})});
  auto graph = Graph::FromGraphDef(def);
  ASSERT_TRUE(graph.ok()) << graph.status();
  EXPECT_EQ((*graph)->FindNode("r")->output_shape(0).DebugString(), "[8,3]");
}

TEST(ParseTensorName, HandlesPortsAndControlInputs) {
  EXPECT_EQ(ParseTensorName("a/b:2")->port, 2);
  EXPECT_EQ(ParseTensorName("a/b")->port, 0);
  EXPECT_EQ(ParseTensorName("^a")->port, kControlSlot);
  EXPECT_FALSE(ParseTensorName("").ok());
}

}  // namespace
}  // namespace runnel
