#include "gtest/gtest.h"
#include "tests/runtime/passes/pass_test_util.h"

namespace runnel::testing {
namespace {

TEST(FuseBiasActivationPass, ConvBiasRelu6BecomesOneNodeUnderTheLastName) {
  for (const char* conv : {"Conv2D", "DepthwiseConv2dNative"}) {
    const bool depthwise = std::string(conv) == "DepthwiseConv2dNative";
    GraphDef graph = MakeGraph(
        {PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 6, 6, 3}),
         ConstNode("w", RandomFloats({3, 3, 3, 2})), ConstNode("b", RandomFloats({depthwise ? 6 : 2})),
         MakeNode("conv", conv, {"x", "w"},
                  {{"strides", MakeAttr(std::vector<int64_t>{1, 2, 2, 1})},
                   {"padding", MakeAttr("SAME")}}),
         MakeNode("bias", "BiasAdd", {"conv", "b"}), MakeNode("y", "Relu6", {"bias"}),
         MakeNode("shape", "Shape", {"conv"})});
    auto pass = MakeFuseBiasActivationPass();
    EXPECT_STREQ(pass->name(), "fuse_bias_activation");
    GraphDef out = RunPass(pass.get(), graph, {"y", "shape"});
    ASSERT_EQ(out.node_size(), 5) << conv;
    const NodeDef* y = FindNode(out, "y");
    EXPECT_EQ(y->op(), depthwise ? "_FusedDepthwiseConv2dNative" : "_FusedConv2D");
    EXPECT_EQ(y->attr().at("fused_ops").list().s_size(), 2);
    EXPECT_EQ(FindNode(out, "shape")->input(0), "y");
    Tensor x = RandomFloats({2, 6, 6, 3}, 5);
    for (int64_t i = 0; i < x.NumElements(); ++i) x.data<float>()[i] *= 8;  // reach 6
    ExpectSameOutputs(graph, out, {{"x", x}}, {"y:0", "shape:0"});
  }
}

// The bias is any tensor of shape [channels] (a variable's value when training).
TEST(FuseBiasActivationPass, MatMulPlusAVectorThenRelu) {
  GraphDef graph = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 3}),
                              ConstNode("w", RandomFloats({3, 4})),
                              ConstNode("b_value", RandomFloats({4}, 2)),
                              MakeNode("b", "Identity", {"b_value"}),
                              MakeNode("mm", "MatMul", {"x", "w"}),
                              MakeNode("add", "Add", {"mm", "b"}), MakeNode("y", "Relu", {"add"})});
  GraphDef out = RunPass(MakeFuseBiasActivationPass().get(), graph, {"y"});
  EXPECT_EQ(FindNode(out, "y")->op(), "_FusedMatMul");
  EXPECT_EQ(FindNode(out, "mm"), nullptr);
  ExpectSameOutputs(graph, out, {{"x", RandomFloats({5, 3})}}, {"y:0"});
}

TEST(FuseBiasActivationPass, LeavesSharedAndDoubleProductsAlone) {
  GraphDef graph = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 3}),
                              ConstNode("w", RandomFloats({3, 4})), ConstNode("b", RandomFloats({4})),
                              MakeNode("mm", "MatMul", {"x", "w"}),
                              MakeNode("y", "BiasAdd", {"mm", "b"}), MakeNode("z", "Neg", {"mm"}),
                              PlaceholderNode("xd", DT_DOUBLE, PartialShape{-1, 3}),
                              PlaceholderNode("wd", DT_DOUBLE, PartialShape{3, 4}),
                              PlaceholderNode("bd", DT_DOUBLE, PartialShape{4}),
                              MakeNode("mmd", "MatMul", {"xd", "wd"}),
                              MakeNode("yd", "BiasAdd", {"mmd", "bd"})});
  GraphDef out = RunPass(MakeFuseBiasActivationPass().get(), graph, {"y", "z", "yd"});
  EXPECT_EQ(FindNode(out, "y")->op(), "BiasAdd");
  EXPECT_EQ(FindNode(out, "yd")->op(), "BiasAdd");
}

}  // namespace
}  // namespace runnel::testing
