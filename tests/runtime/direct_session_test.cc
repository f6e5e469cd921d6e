#include "runtime/direct_session.h"

#include <thread>

#include "core/allocator.h"
#include "gtest/gtest.h"
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

// y = relu(x @ w + b), x fed; w and b constants.
GraphDef DenseGraph() {
  return MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 2}),
                    ConstNode("w", MakeTensor<float>({2, 2}, {1, -1, 2, 1})),
                    ConstNode("b", MakeTensor<float>({2}, {0.5f, -10})),
                    MakeNode("dense/MatMul", "MatMul", {"x", "w"}),
                    MakeNode("dense/BiasAdd", "BiasAdd", {"dense/MatMul", "b"}),
                    MakeNode("y", "Relu", {"dense/BiasAdd"})});
}

TEST(DirectSession, RunsADenseLayer) {
  auto out = RunGraph(DenseGraph(), {{"x", MakeTensor<float>({1, 2}, {1, 2})}}, {"y:0"});
  ASSERT_TRUE(out.ok()) << out.status();
  // [1,2] @ [[1,-1],[2,1]] = [5, 1]; + b = [5.5, -9]; relu = [5.5, 0].
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{5.5f, 0}));
}

TEST(DirectSession, FetchesIntermediateAndFedTensors) {
  auto out =
      RunGraph(DenseGraph(), {{"x:0", MakeTensor<float>({1, 2}, {1, 0})}}, {"dense/MatMul", "x:0"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{1, -1}));
  EXPECT_EQ(Values<float>((*out)[1]), (std::vector<float>{1, 0}));
}

TEST(DirectSession, FeedingAnIntermediateTensorCutsTheGraph) {
  // x is never fed: feeding dense/MatMul makes the placeholder unnecessary.
  auto out = RunGraph(DenseGraph(), {{"dense/MatMul", MakeTensor<float>({1, 2}, {1, 20})}}, {"y"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{1.5f, 10}));
}

TEST(DirectSession, MissingFeedNamesThePlaceholder) {
  auto out = RunGraph(DenseGraph(), {}, {"y"});
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument,
                "You must feed a value for placeholder tensor 'x'", "float", "[?,2]",
                "[[node x (Placeholder)");
}

TEST(DirectSession, FeedOfTheWrongDtypeNamesThePlaceholder) {
  auto out = RunGraph(DenseGraph(), {{"x", MakeTensor<int32_t>({1, 2}, {1, 2})}}, {"y"});
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument, "has dtype int32",
                "'x' expects float");
}

TEST(DirectSession, FeedOfAnIncompatibleShapeNamesThePlaceholder) {
  auto out = RunGraph(DenseGraph(), {{"x", MakeTensor<float>({1, 3}, {1, 2, 3})}}, {"y"});
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument, "has shape [1,3]",
                "'x' has shape [?,2]");
  auto rank = RunGraph(DenseGraph(), {{"x", MakeTensor<float>({2}, {1, 2})}}, {"y"});
  EXPECT_STATUS(rank.status(), absl::StatusCode::kInvalidArgument, "has shape [2]");
}

TEST(DirectSession, ABatchOtherThanThePlaceholdersIsAccepted) {
  GraphDef def =
      MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{2, 1}), MakeNode("y", "Neg", {"x"})});
  auto out = RunGraph(def, {{"x", MakeTensor<float>({3, 1}, {1, 2, 3})}}, {"y"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values<float>((*out)[0]), (std::vector<float>{-1, -2, -3}));
}

TEST(DirectSession, FetchOfAMissingTensorIsNotFound) {
  EXPECT_STATUS(RunGraph(DenseGraph(), {}, {"nope:0"}).status(), absl::StatusCode::kNotFound,
                "fetch 'nope:0'", "no node named 'nope'");
  EXPECT_STATUS(RunGraph(DenseGraph(), {}, {"y:1"}).status(), absl::StatusCode::kNotFound,
                "fetch 'y:1'", "has 1 output");
}

TEST(DirectSession, FeedsAreResolvedWithThePreciseMessage) {
  EXPECT_STATUS(RunGraph(DenseGraph(), {{"q", Tensor::Scalar<float>(1)}}, {"y"}).status(),
                absl::StatusCode::kNotFound, "feed 'q'", "no node named 'q'");
  EXPECT_STATUS(RunGraph(DenseGraph(), {{"x:3", Tensor::Scalar<float>(1)}}, {"y"}).status(),
                absl::StatusCode::kNotFound, "feed 'x:3'", "node 'x' (Placeholder) has 1 output");
  const Tensor x = MakeTensor<float>({1, 2}, {1, 2});
  EXPECT_STATUS(RunGraph(DenseGraph(), {{"x", x}, {"x:0", x}}, {"y"}).status(),
                absl::StatusCode::kInvalidArgument, "'x:0' is fed twice");
}

TEST(DirectSession, MatMulMismatchNamesTheNodeAndBothShapes) {
  GraphDef def = MakeGraph({PlaceholderNode("a", DT_FLOAT), PlaceholderNode("b", DT_FLOAT),
                            MakeNode("dense_1/MatMul", "MatMul", {"a", "b"})});
  auto out = RunGraph(def,
                      {{"a", Tensor(DT_FLOAT, TensorShape{32, 784})},
                       {"b", Tensor(DT_FLOAT, TensorShape{512, 10})}},
                      {"dense_1/MatMul"});
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument, "inner dimensions differ",
                "a is [32,784]", "b is [512,10]",
                "[[node dense_1/MatMul (MatMul) on /device:CPU:0]]");
}

TEST(DirectSession, TargetsRunWithoutFetches) {
  GraphDef def = MakeGraph({PlaceholderNode("x", DT_FLOAT), MakeNode("noop", "NoOp", {"^x"})});
  auto missing = RunGraph(def, {}, {}, SessionOptions(), {"noop"});
  EXPECT_FALSE(missing.ok());  // the control input still needs the placeholder
  auto out = RunGraph(def, {{"x", Tensor::Scalar<float>(1)}}, {}, SessionOptions(), {"noop"});
  EXPECT_TRUE(out.ok()) << out.status();
}

TEST(DirectSession, CachesOneExecutorSetPerSignature) {
  auto session = DirectSession::Create(DenseGraph());
  ASSERT_TRUE(session.ok());
  std::vector<Tensor> out;
  Tensor x = MakeTensor<float>({1, 2}, {1, 2});
  for (int i = 0; i < 3; ++i) ASSERT_TRUE((*session)->Run({{"x", x}}, {"y"}, {}, &out).ok());
  EXPECT_EQ((*session)->num_cached_signatures(), 1u);
  ASSERT_TRUE((*session)->Run({{"x", x}}, {"dense/MatMul"}, {}, &out).ok());
  EXPECT_EQ((*session)->num_cached_signatures(), 2u);
}

// A large constant taken out of the GraphDef and attached to the Graph decoded (how a
// loaded model holds its weights): its kernel outputs that Tensor, keeping no copy of its
// own, and the graph's defs still give the contents to readers.
TEST(DirectSession, AttachedConstantsAreSharedWithTheirKernels) {
  Tensor w(DT_FLOAT, TensorShape{256, 256});
  std::vector<float> values(w.NumElements());
  for (size_t i = 0; i < values.size(); ++i) values[i] = 0.5f * static_cast<float>(i);
  std::copy(values.begin(), values.end(), w.data<float>());
  GraphDef def = MakeGraph({ConstNode("w", w), MakeNode("y", "Neg", {"w"})});
  auto taken = TakeLargeConstants(&def, 1 << 10);
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_TRUE(def.node(0).attr().at("value").tensor().tensor_content().empty());
  auto graph = Graph::FromGraphDef(def);
  ASSERT_TRUE(graph.ok()) << graph.status();
  ASSERT_TRUE((*graph)->AttachConstantValue("w", taken[0].second).ok());
  std::shared_ptr<Graph> shared = *std::move(graph);
  auto session = DirectSession::Create(shared);
  ASSERT_TRUE(session.ok()) << session.status();
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({}, {"w", "y"}, {}, &out).ok());
  const Tensor* attached = shared->FindNode("w")->attached_value();
  ASSERT_NE(attached, nullptr);
  EXPECT_EQ(out[0].raw_data(), attached->raw_data());
  EXPECT_EQ(reinterpret_cast<uintptr_t>(attached->raw_data()) % kTensorAlignment, 0u);
  EXPECT_EQ(Values<float>(out[0]), values);
  EXPECT_EQ(Values<float>(out[1])[3], -1.5f);
  GraphDef back;
  shared->ToGraphDef(&back);
  auto restored = Tensor::FromProto(back.node(0).attr().at("value").tensor());
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(Values<float>(*restored), values);
}

TEST(DirectSession, ExtendAddsNodesForLaterRuns) {
  auto session = DirectSession::Create(DenseGraph());
  ASSERT_TRUE(session.ok());
  ASSERT_TRUE((*session)->Extend(MakeGraph({MakeNode("z", "Square", {"y"})})).ok());
  std::vector<Tensor> out;
  ASSERT_TRUE((*session)->Run({{"x", MakeTensor<float>({1, 2}, {1, 2})}}, {"z"}, {}, &out).ok());
  EXPECT_FLOAT_EQ(out[0].data<float>()[0], 30.25f);
}

TEST(DirectSession, RunsConcurrentlyFromManyThreads) {
  auto session = DirectSession::Create(DenseGraph());
  ASSERT_TRUE(session.ok());
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        std::vector<Tensor> out;
        float v = static_cast<float>(t * 1000 + i);
        auto s = (*session)->Run({{"x", MakeTensor<float>({1, 2}, {v, 0})}}, {"y"}, {}, &out);
        if (!s.ok() || out[0].data<float>()[0] != v + 0.5f) {
          ++failures;
          ADD_FAILURE() << "run " << i << " of thread " << t << ": " << s << " got "
                        << (s.ok() ? out[0].DebugString() : "nothing") << ", want " << v + 0.5f;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(DirectSession, UnknownOptionIsAnError) {
  auto session = DirectSession::Create(
      DenseGraph(),
      SessionOptions(std::map<std::string, std::string>{{"intra_op_paralelism_threads", "2"}}));
  EXPECT_STATUS(session.status(), absl::StatusCode::kInvalidArgument, "unknown session option",
                "did you mean 'intra_op_parallelism_threads'?");
}

// TensorFlow's reading of a ConfigProto: an unset allow_soft_placement is false there, while
// a session made without one allows soft placement.
TEST(SessionOptions, FromConfigProtoReadsTensorFlowsFields) {
  ConfigProto config;
  (*config.mutable_device_count())["CPU"] = 3;
  config.set_intra_op_parallelism_threads(2);
  config.mutable_graph_options()->mutable_optimizer_options()->set_opt_level(OptimizerOptions::L0);
  config.mutable_gpu_options()->set_per_process_gpu_memory_fraction(0.25);
  (*config.mutable_runnel_options())["inter_op_parallelism_threads"] = "4";
  auto options = SessionOptions::FromConfigProto(config);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->GetInt("device_count.CPU"), 3);
  EXPECT_EQ(options->GetInt("intra_op_parallelism_threads"), 2);
  EXPECT_EQ(options->GetInt("inter_op_parallelism_threads"), 4);
  EXPECT_EQ(options->GetInt("graph_optimization_level"), 0);
  EXPECT_DOUBLE_EQ(options->GetDouble("gpu_options.per_process_gpu_memory_fraction"), 0.25);
  EXPECT_FALSE(options->GetBool("allow_soft_placement"));
  EXPECT_TRUE(SessionOptions().GetBool("allow_soft_placement"));
  (*config.mutable_runnel_options())["gpu_options.per_process_gpu_memory_fraction"] = "1.5";
  EXPECT_STATUS(SessionOptions::FromConfigProto(config).status(),
                absl::StatusCode::kInvalidArgument, "a number from 0 to 1", "'1.5'");
}

TEST(DirectSession, GarbageGraphBytesAreAnError) {
  GraphDef def;
  EXPECT_FALSE(def.ParseFromString(std::string("\xff\xff\xff\x0f garbage", 12)));
}

}  // namespace
}  // namespace runnel
