#include "gtest/gtest.h"
#include "tests/runtime/passes/pass_test_util.h"

namespace runnel::testing {
namespace {

TEST(IdentityEliminationPass, ReadersReadThroughIdentityChains) {
  GraphDef graph = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{2}),
                              MakeNode("a", "Identity", {"x"}), MakeNode("b", "StopGradient", {"a"}),
                              MakeNode("y", "Square", {"b"}), MakeNode("z", "Neg", {"a"})});
  auto pass = MakeIdentityEliminationPass();
  EXPECT_STREQ(pass->name(), "identity_elimination");
  GraphDef out = RunPass(pass.get(), graph, {"y", "z"});
  EXPECT_EQ(FindNode(out, "a"), nullptr);
  EXPECT_EQ(FindNode(out, "b"), nullptr);
  EXPECT_EQ(FindNode(out, "y")->input(0), "x");
  EXPECT_EQ(FindNode(out, "z")->input(0), "x");
  ExpectSameOutputs(graph, out, {{"x", MakeTensor<float>({2}, {3, -2})}}, {"y:0", "z:0"});
}

TEST(IdentityEliminationPass, KeepsKeptIdentitiesAndCondPivots) {
  GraphDef graph = MakeGraph(
      {PlaceholderNode("x", DT_FLOAT, PartialShape{}), PlaceholderNode("p", DT_BOOL, PartialShape{}),
       MakeNode("out", "Identity", {"x"}), MakeNode("s", "Switch", {"x", "p"}),
       MakeNode("pivot", "Identity", {"s:1"}), MakeNode("c", "Const", {"^pivot"},
                                                       {{"dtype", MakeAttr(DT_FLOAT)},
                                                        {"value", [] {
                                                           AttrValue v;
                                                           MakeTensor<float>({}, {1}).AsProto(
                                                               v.mutable_tensor());
                                                           return v;
                                                         }()}}),
       MakeNode("m", "Merge", {"s", "c"})});
  GraphDef out = RunPass(MakeIdentityEliminationPass().get(), graph, {"out", "m"});
  EXPECT_NE(FindNode(out, "out"), nullptr);    // fetched by name
  EXPECT_NE(FindNode(out, "pivot"), nullptr);  // its control edge carries the Switch's deadness
  for (bool p : {true, false}) {
    ExpectSameOutputs(graph, out,
                      {{"x", MakeTensor<float>({}, {5})}, {"p", MakeTensor<bool>({}, {p})}},
                      {"out:0", "m:0"});
  }
}

TEST(IdentityEliminationPass, NoOpPassesItsControlEdgesOn) {
  GraphDef graph = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{}),
                              MakeNode("a", "Neg", {"x"}), MakeNode("gate", "NoOp", {"^a"}),
                              MakeNode("y", "Square", {"x", "^gate"}),
                              MakeNode("z", "Abs", {"x", "^gate"})});
  GraphDef out = RunPass(MakeIdentityEliminationPass().get(), graph, {"y", "z"});
  EXPECT_EQ(FindNode(out, "gate"), nullptr);
  EXPECT_EQ(FindNode(out, "y")->input(1), "^a");
  EXPECT_EQ(FindNode(out, "z")->input(1), "^a");
}

}  // namespace
}  // namespace runnel::testing
