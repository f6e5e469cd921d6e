// Variables persist across runs of one session; Assign family and ApplyGradientDescent
// write through references; reading an uninitialized variable names it.
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::ConstNode;
using testing::MakeGraph;
using testing::MakeNode;
using testing::MakeTensor;
using testing::Values;

NodeDef Variable(const std::string& name, const PartialShape& shape) {
  return MakeNode(name, "VariableV2", {},
                  {{"shape", MakeAttr(shape)}, {"dtype", MakeAttr(DT_FLOAT)}});
}

GraphDef VariableGraph() {
  return MakeGraph(
      {Variable("w", PartialShape{2}), ConstNode("init", MakeTensor<float>({2}, {1, 2})),
       ConstNode("delta", MakeTensor<float>({2}, {0.5f, 0.25f})),
       ConstNode("lr", Tensor::Scalar<float>(2)), MakeNode("w/Assign", "Assign", {"w", "init"}),
       MakeNode("w/read", "Identity", {"w"}), MakeNode("add", "AssignAdd", {"w", "delta"}),
       MakeNode("sub", "AssignSub", {"w", "delta"}),
       MakeNode("sgd", "ApplyGradientDescent", {"w", "lr", "delta"}),
       MakeNode("inited", "IsVariableInitialized", {"w"}),
       MakeNode("twice", "AddV2", {"w/read", "w/read"})});
}

std::vector<float> Read(DirectSession* s, const std::string& fetch = "w/read") {
  std::vector<Tensor> out;
  auto status = s->Run({}, {fetch}, {}, &out);
  EXPECT_TRUE(status.ok()) << status;
  return status.ok() ? Values<float>(out[0]) : std::vector<float>{};
}

TEST(Variables, UninitializedReadNamesTheVariable) {
  auto session = DirectSession::Create(VariableGraph());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  EXPECT_STATUS((*session)->Run({}, {"w/read"}, {}, &out), absl::StatusCode::kFailedPrecondition,
                "Attempting to use uninitialized value w");
  ASSERT_TRUE((*session)->Run({}, {"inited"}, {}, &out).ok());
  EXPECT_FALSE(out[0].scalar<bool>());
}

TEST(Variables, StatePersistsAcrossRunsAndUpdatesInPlace) {
  auto session = DirectSession::Create(VariableGraph());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({}, {}, {"w/Assign"}, &out).ok());
  EXPECT_EQ(Read(session->get()), (std::vector<float>{1, 2}));
  ASSERT_TRUE((*session)->Run({}, {}, {"add"}, &out).ok());
  ASSERT_TRUE((*session)->Run({}, {}, {"add"}, &out).ok());
  EXPECT_EQ(Read(session->get()), (std::vector<float>{2, 2.5f}));
  ASSERT_TRUE((*session)->Run({}, {}, {"sub"}, &out).ok());
  EXPECT_EQ(Read(session->get()), (std::vector<float>{1.5f, 2.25f}));
  ASSERT_TRUE((*session)->Run({}, {}, {"sgd"}, &out).ok());  // w -= 2 * delta
  EXPECT_EQ(Read(session->get()), (std::vector<float>{0.5f, 1.75f}));
  EXPECT_EQ(Read(session->get(), "twice"), (std::vector<float>{1, 3.5f}));
  ASSERT_TRUE((*session)->Run({}, {"inited"}, {}, &out).ok());
  EXPECT_TRUE(out[0].scalar<bool>());
  // A fresh session has fresh variables.
  auto other = DirectSession::Create(VariableGraph());
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE((*other)->Run({}, {"w/read"}, {}, &out).ok());
}

TEST(Variables, AssignOfAnotherShapeIsAnError) {
  GraphDef def =
      MakeGraph({Variable("v", PartialShape::UnknownRank()),
                 testing::PlaceholderNode("x", DT_FLOAT), MakeNode("set", "Assign", {"v", "x"})});
  auto session = DirectSession::Create(def);
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({{"x", MakeTensor<float>({2}, {1, 2})}}, {}, {"set"}, &out).ok());
  EXPECT_STATUS((*session)->Run({{"x", MakeTensor<float>({3}, {1, 2, 3})}}, {}, {"set"}, &out),
                absl::StatusCode::kInvalidArgument, "Assign to v", "shape [2]", "[3]");
}

TEST(Variables, AssignCopiesTheValueInsteadOfAliasingIt) {
  GraphDef def =
      MakeGraph({Variable("v", PartialShape{2}), testing::PlaceholderNode("x", DT_FLOAT),
                 MakeNode("set", "Assign", {"v", "x"}), MakeNode("read", "Identity", {"v"})});
  auto session = DirectSession::Create(def);
  ASSERT_TRUE(session.ok());
  Tensor x = MakeTensor<float>({2}, {3, 4});
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({{"x", x}}, {}, {"set"}, &out).ok());
  x.data<float>()[0] = 99;  // the caller reuses its buffer
  EXPECT_EQ(Read(session->get(), "read"), (std::vector<float>{3, 4}));
}

TEST(Variables, AReadKeepsItsValueWhenTheVariableIsUpdatedLaterInTheStep) {
  GraphDef def = MakeGraph(
      {Variable("v", PartialShape{2}), ConstNode("init", MakeTensor<float>({2}, {1, 2})),
       ConstNode("delta", MakeTensor<float>({2}, {10, 10})),
       ConstNode("ten", Tensor::Scalar<float>(10)), MakeNode("init_v", "Assign", {"v", "init"}),
       MakeNode("read", "Identity", {"v"}), MakeNode("bump", "AssignAdd", {"v", "delta", "^read"}),
       MakeNode("sgd", "ApplyGradientDescent", {"v", "ten", "delta", "^read"}),
       MakeNode("after", "Identity", {"v", "^bump"})});
  auto session = DirectSession::Create(def);
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({}, {}, {"init_v"}, &out).ok());
  ASSERT_TRUE((*session)->Run({}, {"read"}, {"bump"}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{1, 2}));  // the snapshot, not 11, 12
  ASSERT_TRUE((*session)->Run({}, {"read"}, {"sgd"}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{11, 12}));
  ASSERT_TRUE((*session)->Run({}, {"read"}, {}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{-89, -88}));  // 11 - 10 * 10
}

TEST(Variables, ShapeFunctionRejectsMismatchedAssignAtBuildTime) {
  GraphDef def =
      MakeGraph({Variable("v", PartialShape{2}), ConstNode("c", MakeTensor<float>({3}, {1, 2, 3})),
                 MakeNode("set", "Assign", {"v", "c"})});
  EXPECT_STATUS(Graph::FromGraphDef(def).status(), absl::StatusCode::kInvalidArgument,
                "the variable has shape [2] but the value has shape [3]");
}

}  // namespace
}  // namespace runnel

namespace runnel {
namespace {

// Variables live in their device's resource manager: sessions given the same devices see
// one variable (as a worker's sessions will on a parameter server); a session with its own
// devices starts from scratch.
TEST(Variables, SessionsOnTheSameDevicesShareThem) {
  auto devices = LocalDevices::Create(SessionOptions());
  ASSERT_TRUE(devices.ok()) << devices.status();
  auto graph = Graph::FromGraphDef(VariableGraph());
  ASSERT_TRUE(graph.ok());
  std::shared_ptr<Graph> shared = *std::move(graph);
  auto writer = DirectSession::Create(shared, SessionOptions(), *devices);
  auto reader = DirectSession::Create(shared, SessionOptions(), *devices);
  auto alone = DirectSession::Create(shared, SessionOptions());
  ASSERT_TRUE(writer.ok() && reader.ok() && alone.ok());
  std::vector<Tensor> out;
  ASSERT_TRUE((*writer)->Run({}, {}, {"w/Assign"}, &out).ok());
  ASSERT_TRUE((*writer)->Run({}, {}, {"add"}, &out).ok());
  EXPECT_EQ(Read(reader->get()), (std::vector<float>{1.5f, 2.25f}));
  writer->reset();  // the variable outlives the session that wrote it
  EXPECT_EQ(Read(reader->get()), (std::vector<float>{1.5f, 2.25f}));
  EXPECT_STATUS((*alone)->Run({}, {"w/read"}, {}, &out), absl::StatusCode::kFailedPrecondition,
                "uninitialized value w");
}

}  // namespace
}  // namespace runnel
