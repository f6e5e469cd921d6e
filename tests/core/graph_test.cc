#include "core/graph.h"

#include <algorithm>

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

TEST(Graph, RefinedOutputShapeReachesLaterNodesAndMustFit) {
  auto graph = Graph::FromGraphDef(MakeGraph(
      {PlaceholderNode("x", DT_FLOAT, PartialShape{-1, -1}), MakeNode("y", "Relu", {"x"})}));
  ASSERT_TRUE(graph.ok()) << graph.status();
  Node* x = (*graph)->FindNode("x");
  ASSERT_TRUE((*graph)->RefineOutputShape(x, 0, PartialShape{-1, 3}).ok());
  EXPECT_EQ(x->output_shape(0).DebugString(), "[?,3]");
  auto z = (*graph)->AddNode(MakeNode("z", "Relu", {"x"}));
  ASSERT_TRUE(z.ok()) << z.status();
  EXPECT_EQ((*z)->output_shape(0).DebugString(), "[?,3]");
  absl::Status bad = (*graph)->RefineOutputShape(x, 0, PartialShape{-1, 4});
  EXPECT_TRUE(absl::IsInvalidArgument(bad));
  EXPECT_NE(bad.message().find("[?,3]"), std::string::npos) << bad;
  EXPECT_NE(bad.message().find("node x"), std::string::npos) << bad;
}

// x -> a = Neg(x) -> b = Square(a) -> c = Abs(b), and d = Relu(x) waiting for a.
std::unique_ptr<Graph> Chain() {
  return Graph::FromGraphDef(
             MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{2}),
                        MakeNode("a", "Neg", {"x"}), MakeNode("b", "Square", {"a"}),
                        MakeNode("c", "Abs", {"b"}), MakeNode("d", "Relu", {"x", "^a"})}))
      .value();
}

std::vector<std::string> Inputs(const Graph& graph, const std::string& name) {
  const NodeDef& def = graph.FindNode(name)->def();
  return {def.input().begin(), def.input().end()};
}

TEST(GraphEdits, UpdateInputRewiresTheEdgeAndTheDef) {
  auto graph = Chain();
  Node* c = graph->FindNode("c");
  ASSERT_TRUE(graph->UpdateInput(c, 0, graph->FindNode("a"), 0).ok());
  EXPECT_EQ(c->input_edge(0)->src->name(), "a");
  EXPECT_EQ(Inputs(*graph, "c"), (std::vector<std::string>{"a"}));
  EXPECT_TRUE(graph->FindNode("b")->out_edges().empty());
  EXPECT_EQ(graph->FindNode("a")->out_edges().size(), 3u);  // b, c and d's control edge
}

TEST(GraphEdits, UpdateInputChecksTheDtype) {
  auto graph = Chain();
  ASSERT_TRUE(graph->AddNode(ConstNode("i", MakeTensor<int32_t>({2}, {1, 2}))).ok());
  EXPECT_STATUS(graph->UpdateInput(graph->FindNode("c"), 0, graph->FindNode("i"), 0),
                absl::StatusCode::kInvalidArgument, "input 0 of 'c' is float",
                "cannot read int32 from 'i'");
  EXPECT_EQ(Inputs(*graph, "c"), (std::vector<std::string>{"b"}));  // unchanged
}

TEST(GraphEdits, ControlEdgesAreNotDuplicatedAndDataInputsStayFirst) {
  auto graph = Chain();
  Node* d = graph->FindNode("d");
  graph->AddControlEdge(graph->FindNode("a"), d);  // already there
  graph->AddControlEdge(graph->FindNode("c"), d);
  EXPECT_EQ(Inputs(*graph, "d"), (std::vector<std::string>{"x", "^a", "^c"}));
  ASSERT_TRUE(graph->UpdateInput(d, 0, graph->FindNode("b"), 0).ok());
  EXPECT_EQ(Inputs(*graph, "d"), (std::vector<std::string>{"b", "^a", "^c"}));
  EXPECT_FALSE(d->in_edges()[0]->IsControlEdge());
  graph->RemoveControlEdge(d->in_edges()[1]);
  EXPECT_EQ(Inputs(*graph, "d"), (std::vector<std::string>{"b", "^c"}));
}

TEST(GraphEdits, RemovedNodesLeaveTheIdsAndTheSerializedGraph) {
  auto graph = Chain();
  ASSERT_TRUE(graph->UpdateInput(graph->FindNode("c"), 0, graph->FindNode("a"), 0).ok());
  const int ids = graph->num_node_ids();
  graph->RemoveNode(graph->FindNode("b"));
  EXPECT_EQ(graph->num_nodes(), ids - 1);
  EXPECT_EQ(graph->num_node_ids(), ids);
  EXPECT_EQ(graph->FindNode("b"), nullptr);
  std::vector<std::string> names;
  for (const Node* node : graph->nodes()) names.push_back(node->name());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"a", "c", "d", "x"}));
  GraphDef def;
  graph->ToGraphDef(&def);
  EXPECT_EQ(def.node_size(), 4);
  EXPECT_TRUE(Graph::FromGraphDef(def).ok());  // a valid graph
}

TEST(GraphEdits, ReplaceNodeKeepsTheNameAndMovesTheReaders) {
  auto graph = Chain();
  NodeDef folded = ConstNode("ignored", MakeTensor<float>({2}, {1, 4}));
  auto replaced = graph->ReplaceNode(graph->FindNode("a"), folded);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ((*replaced)->name(), "a");
  EXPECT_EQ((*replaced)->type_string(), "Const");
  EXPECT_EQ(graph->FindNode("b")->input_edge(0)->src, *replaced);
  EXPECT_EQ(Inputs(*graph, "d"), (std::vector<std::string>{"x", "^a"}));
  // The replacement has the newest id, yet the topological order puts it before b.
  std::vector<std::string> order;
  for (const Node* node : graph->TopologicalOrder()) order.push_back(node->name());
  auto at = [&](const std::string& n) { return std::find(order.begin(), order.end(), n); };
  EXPECT_EQ(order.size(), 5u);
  EXPECT_LT(at("a"), at("b"));
  EXPECT_LT(at("a"), at("d"));
}

TEST(GraphEdits, FailedReplacementLeavesTheOldNode) {
  auto graph = Chain();
  EXPECT_STATUS(
      graph->ReplaceNode(graph->FindNode("b"), MakeNode("b", "Square", {"nowhere"})).status(),
      absl::StatusCode::kInvalidArgument, "names node 'nowhere'");
  EXPECT_EQ(graph->FindNode("b")->type_string(), "Square");
  EXPECT_EQ(graph->FindNode("c")->input_edge(0)->src, graph->FindNode("b"));
  EXPECT_EQ(Inputs(*graph, "b"), (std::vector<std::string>{"a"}));
}

TEST(GraphEdits, InferShapesAgainSeesFoldedValues) {
  // Reshape's shape comes from a node that is not a constant until a pass folds it.
  auto graph = Graph::FromGraphDef(MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{6}),
                                              PlaceholderNode("s", DT_INT32, PartialShape{2}),
                                              MakeNode("shape", "Identity", {"s"}),
                                              MakeNode("r", "Reshape", {"x", "shape"})}),
                                   GraphBuildOptions{/*infer_shapes=*/false})
                   .value();
  ASSERT_TRUE(graph->InferShapes().ok());
  EXPECT_EQ(graph->FindNode("r")->output_shape(0).DebugString(), "[?,?]");
  ASSERT_TRUE(
      graph->ReplaceNode(graph->FindNode("shape"), ConstNode("", MakeTensor<int32_t>({2}, {2, 3})))
          .ok());
  ASSERT_TRUE(graph->InferShapes().ok());
  EXPECT_EQ(graph->FindNode("r")->output_shape(0).DebugString(), "[2,3]");
}

TEST(Graph, FreeBatchDimLeavesPlaceholdersLeadingDimUnknown) {
  GraphDef def = MakeGraph(
      {PlaceholderNode("x", DT_FLOAT, PartialShape{100, 784}), MakeNode("y", "Relu", {"x"})});
  auto pinned = Graph::FromGraphDef(def);
  auto free = Graph::FromGraphDef(def, GraphBuildOptions{true, /*free_batch_dim=*/true});
  ASSERT_TRUE(pinned.ok() && free.ok());
  EXPECT_EQ((*pinned)->FindNode("y")->output_shape(0).DebugString(), "[100,784]");
  EXPECT_EQ((*free)->FindNode("y")->output_shape(0).DebugString(), "[?,784]");
}

TEST(ParseTensorName, HandlesPortsAndControlInputs) {
  EXPECT_EQ(ParseTensorName("a/b:2")->port, 2);
  EXPECT_EQ(ParseTensorName("a/b")->port, 0);
  EXPECT_EQ(ParseTensorName("^a")->port, kControlSlot);
  EXPECT_FALSE(ParseTensorName("").ok());
}

}  // namespace
}  // namespace runnel
