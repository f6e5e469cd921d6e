#include "gtest/gtest.h"
#include "tests/runtime/passes/pass_test_util.h"

namespace runnel::testing {
namespace {

TEST(ConstantFoldingPass, FoldsConstantSubgraphsWithTheirKernels) {
  GraphDef graph = MakeGraph(
      {PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 3}),
       ConstNode("a", MakeTensor<float>({3}, {1, 2, 3})), ConstNode("b", MakeTensor<float>({}, {2})),
       MakeNode("scaled", "Mul", {"a", "b"}), MakeNode("root", "Sqrt", {"scaled"}),
       MakeNode("y", "Mul", {"x", "root"}), MakeNode("rank", "Rank", {"x"}),
       MakeNode("shape", "Shape", {"x"}),
       MakeNode("noise", "RandomUniform", {"shape"}, {{"dtype", MakeAttr(DT_FLOAT)}})});
  auto pass = MakeConstantFoldingPass();
  EXPECT_STREQ(pass->name(), "constant_folding");
  GraphDef out = RunPass(pass.get(), graph, {"y", "rank", "noise"});
  const NodeDef* root = FindNode(out, "root");
  ASSERT_EQ(root->op(), "Const");
  auto value = Tensor::FromProto(root->attr().at("value").tensor());
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(Values<float>(*value), (std::vector<float>{std::sqrt(2.f), 2, std::sqrt(6.f)}));
  EXPECT_EQ(FindNode(out, "rank")->op(), "Const");      // the rank of [?, 3] is known
  EXPECT_EQ(FindNode(out, "shape")->op(), "Shape");     // the batch is not
  EXPECT_EQ(FindNode(out, "noise")->op(), "RandomUniform");  // stateful
  ExpectSameOutputs(graph, out, {{"x", RandomFloats({4, 3})}}, {"y:0", "rank:0"});
}

TEST(ConstantFoldingPass, LeavesFeedsAndKernelErrorsAlone) {
  GraphDef graph = MakeGraph(
      {ConstNode("d", MakeTensor<float>({}, {4})),
       MakeNode("fed", "PlaceholderWithDefault", {"d"},
                {{"dtype", MakeAttr(DT_FLOAT)}, {"shape", MakeAttr(PartialShape{})}}),
       MakeNode("y", "Neg", {"fed"}), ConstNode("m", MakeTensor<float>({2, 3}, {1, 2, 3, 4, 5, 6})),
       MakeNode("bad", "MatMul", {"m", "m"})});
  GraphDef out = RunPass(MakeConstantFoldingPass().get(), graph, {"y", "bad"});
  EXPECT_EQ(FindNode(out, "fed")->op(), "PlaceholderWithDefault");
  EXPECT_EQ(FindNode(out, "y")->op(), "Neg");
  EXPECT_EQ(FindNode(out, "bad")->op(), "MatMul");  // it fails when run, with its own error
}

}  // namespace
}  // namespace runnel::testing
