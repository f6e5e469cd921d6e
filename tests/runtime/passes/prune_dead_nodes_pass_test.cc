#include "gtest/gtest.h"
#include "tests/runtime/passes/pass_test_util.h"

namespace runnel::testing {
namespace {

TEST(PruneDeadNodesPass, RemovesWhatNoKeptNodeNeeds) {
  GraphDef graph = MakeGraph({PlaceholderNode("x", DT_FLOAT), MakeNode("a", "Neg", {"x"}),
                              MakeNode("b", "Exp", {"x"}), MakeNode("c", "Abs", {"b"}),
                              MakeNode("gate", "NoOp", {"^c"}), MakeNode("y", "Square", {"a"})});
  auto pass = MakePruneDeadNodesPass();
  EXPECT_STREQ(pass->name(), "prune_dead_nodes");
  GraphDef out = RunPass(pass.get(), graph, {"y"});
  EXPECT_EQ(out.node_size(), 3);
  EXPECT_EQ(FindNode(out, "b"), nullptr);
  GraphDef with_gate = RunPass(pass.get(), graph, {"y", "gate"});  // control inputs count
  EXPECT_EQ(with_gate.node_size(), 6);
  EXPECT_EQ(RunPass(pass.get(), graph, {}).node_size(), 6);  // no keep set: nothing to prune by
}

}  // namespace
}  // namespace runnel::testing
