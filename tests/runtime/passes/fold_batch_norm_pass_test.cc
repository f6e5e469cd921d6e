#include "gtest/gtest.h"
#include "tests/runtime/passes/pass_test_util.h"

namespace runnel::testing {
namespace {

Attrs ConvAttrs() {
  return {{"strides", MakeAttr(std::vector<int64_t>{1, 1, 1, 1})}, {"padding", MakeAttr("SAME")}};
}

std::vector<NodeDef> BatchNormParams(int64_t channels) {
  Tensor scale = RandomFloats({channels}, 3), offset = RandomFloats({channels}, 4);
  Tensor mean = RandomFloats({channels}, 5), var = RandomFloats({channels}, 6);
  for (int64_t c = 0; c < channels; ++c) var.data<float>()[c] += 1.5f;  // positive
  return {ConstNode("scale", scale), ConstNode("offset", offset), ConstNode("mean", mean),
          ConstNode("var", var)};
}

TEST(FoldBatchNormPass, FusedBatchNormAfterConvBecomesABiasAdd) {
  for (const char* conv : {"Conv2D", "DepthwiseConv2dNative"}) {
    const bool depthwise = std::string(conv) == "DepthwiseConv2dNative";
    GraphDef graph = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 5, 5, 3}),
                                ConstNode("w", RandomFloats({3, 3, 3, depthwise ? 2 : 4})),
                                MakeNode("conv", conv, {"x", "w"}, ConvAttrs())});
    for (const NodeDef& n : BatchNormParams(4 + 2 * depthwise)) *graph.add_node() = n;
    *graph.add_node() = MakeNode("bn", "FusedBatchNormV3", {"conv", "scale", "offset", "mean", "var"},
                                 {{"is_training", MakeAttr(false)}, {"epsilon", MakeAttr(0.001f)}});
    *graph.add_node() = MakeNode("y", "Relu", {"bn"});
    auto pass = MakeFoldBatchNormPass();
    EXPECT_STREQ(pass->name(), "fold_batch_norm");
    GraphDef out = RunPass(pass.get(), graph, {"y"});
    EXPECT_EQ(FindNode(out, "bn")->op(), "BiasAdd") << conv;
    EXPECT_NE(FindNode(out, "conv")->input(1), "w") << conv;
    ExpectSameOutputs(graph, out, {{"x", RandomFloats({2, 5, 5, 3}, 9)}}, {"y:0"});
  }
}

TEST(FoldBatchNormPass, BiasThenMulFoldsIntoATransposedMatMul) {
  GraphDef graph = MakeGraph(
      {PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 3}), ConstNode("w", RandomFloats({4, 3})),
       MakeNode("mm", "MatMul", {"x", "w"}, {{"transpose_b", MakeAttr(true)}}),
       ConstNode("b", RandomFloats({4}, 2)), MakeNode("add", "AddV2", {"b", "mm"}),
       ConstNode("k", RandomFloats({4}, 3)), MakeNode("y", "Mul", {"add", "k"})});
  GraphDef out = RunPass(MakeFoldBatchNormPass().get(), graph, {"y"});
  EXPECT_EQ(FindNode(out, "y")->op(), "Identity");
  EXPECT_EQ(FindNode(out, "add")->op(), "BiasAdd");
  ExpectSameOutputs(graph, out, {{"x", RandomFloats({5, 3}, 7)}}, {"y:0"});
}

TEST(FoldBatchNormPass, LeavesTrainingNormsAndSharedOutputsAlone) {
  GraphDef graph = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 5, 5, 3}),
                              ConstNode("w", RandomFloats({1, 1, 3, 4})),
                              MakeNode("conv", "Conv2D", {"x", "w"}, ConvAttrs()),
                              MakeNode("other", "Neg", {"conv"})});
  for (const NodeDef& n : BatchNormParams(4)) *graph.add_node() = n;
  *graph.add_node() = MakeNode("bn", "FusedBatchNormV3", {"conv", "scale", "offset", "mean", "var"},
                               {{"is_training", MakeAttr(false)}});
  GraphDef out = RunPass(MakeFoldBatchNormPass().get(), graph, {"bn", "other"});
  EXPECT_EQ(FindNode(out, "bn")->op(), "FusedBatchNormV3");  // conv is read twice
}

}  // namespace
}  // namespace runnel::testing
