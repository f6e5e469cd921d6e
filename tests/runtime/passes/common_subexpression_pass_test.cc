#include "gtest/gtest.h"
#include "tests/runtime/passes/pass_test_util.h"

namespace runnel::testing {
namespace {

TEST(CommonSubexpressionPass, MergesEqualNodesAndTheirReaders) {
  GraphDef graph =
      MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{3}),
                 PlaceholderNode("x2", DT_FLOAT, PartialShape{3}), MakeNode("s1", "Square", {"x"}),
                 MakeNode("s2", "Square", {"x"}), MakeNode("e1", "Exp", {"s1"}),
                 MakeNode("e2", "Exp", {"s2"}), MakeNode("y", "AddV2", {"e1", "e2"}),
                 MakeNode("other", "Square", {"x2"}), MakeNode("sum", "AddV2", {"y", "other"})});
  auto pass = MakeCommonSubexpressionPass();
  EXPECT_STREQ(pass->name(), "common_subexpression_elimination");
  GraphDef out = RunPass(pass.get(), graph, {"sum"});
  EXPECT_EQ(CountOps(out, "Square"), 2);  // s1 and other: x2 is a different placeholder
  EXPECT_EQ(CountOps(out, "Exp"), 1);
  EXPECT_EQ(CountOps(out, "Placeholder"), 2);
  const NodeDef* y = FindNode(out, "y");
  EXPECT_EQ(y->input(0), y->input(1));
  ExpectSameOutputs(graph, out, {{"x", RandomFloats({3})}, {"x2", RandomFloats({3}, 2)}},
                    {"sum:0"});
}

TEST(CommonSubexpressionPass, KeepsStatefulAndDifferentNodesApart) {
  GraphDef graph =
      MakeGraph({ConstNode("shape", MakeTensor<int32_t>({1}, {3})),
                 MakeNode("r1", "RandomUniform", {"shape"}, {{"dtype", MakeAttr(DT_FLOAT)}}),
                 MakeNode("r2", "RandomUniform", {"shape"}, {{"dtype", MakeAttr(DT_FLOAT)}}),
                 MakeNode("sum1", "Sum", {"r1", "shape"}, {{"keep_dims", MakeAttr(true)}}),
                 MakeNode("sum2", "Sum", {"r1", "shape"}, {{"keep_dims", MakeAttr(false)}})});
  GraphDef out = RunPass(MakeCommonSubexpressionPass().get(), graph, {"r2", "sum1", "sum2"});
  EXPECT_EQ(CountOps(out, "RandomUniform"), 2);
  EXPECT_EQ(CountOps(out, "Sum"), 2);
}

}  // namespace
}  // namespace runnel::testing

namespace runnel::testing {
namespace {

// A loaded model's large constants are attached to the graph (their defs keep only dtype
// and shape), so equal defs do not mean equal values.
TEST(CommonSubexpressionPass, KeepsAttachedConstantsApart) {
  auto graph = Graph::FromGraphDefTakingWeights(
      MakeGraph({ConstNode("w1", RandomFloats({128, 128}, 1)),
                 ConstNode("w2", RandomFloats({128, 128}, 2)), MakeNode("d", "Sub", {"w1", "w2"})}),
      GraphBuildOptions{/*infer_shapes=*/false});
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_NE((*graph)->FindNode("w1")->attached_value(), nullptr);
  PassContext ctx;
  ctx.keep.insert("d");
  ASSERT_TRUE(MakeCommonSubexpressionPass()->Run(ctx, graph->get()).ok());
  EXPECT_EQ((*graph)->FindNode("d")->def().input(0), "w1");
  EXPECT_EQ((*graph)->FindNode("d")->def().input(1), "w2");
}

}  // namespace
}  // namespace runnel::testing
