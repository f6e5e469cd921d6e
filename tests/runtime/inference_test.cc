// The C++ inference API (runtime/inference.h): loading, the model's signature, values,
// concurrent Run, and errors.
#include "runtime/inference.h"

#include <thread>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::ConstNode;
using testing::MakeGraph;
using testing::MakeNode;
using testing::MakeTensor;
using testing::PlaceholderNode;

// y = relu(x @ w + b); also z = sum of x (a second output).
std::string DenseModel() {
  GraphDef graph = MakeGraph({PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 2}),
                              ConstNode("w", MakeTensor<float>({2, 2}, {1, -1, 2, 1})),
                              ConstNode("b", MakeTensor<float>({2}, {0.5f, -10})),
                              ConstNode("axes", MakeTensor<int32_t>({1}, {1})),
                              MakeNode("mm", "MatMul", {"x", "w"}),
                              MakeNode("add", "BiasAdd", {"mm", "b"}),
                              MakeNode("y", "Relu", {"add"}),
                              MakeNode("z", "Sum", {"x", "axes"})});
  return graph.SerializeAsString();
}

HostTensor Input(std::vector<float> values) {
  HostTensor x(ElementType::kFloat, {static_cast<int64_t>(values.size() / 2), 2});
  std::copy(values.begin(), values.end(), x.data<float>());
  return x;
}

TEST(InferenceApi, ListsInputsAndOutputs) {
  auto model = Model::FromBytes(DenseModel());
  ASSERT_TRUE(model.ok()) << model.status();
  ASSERT_EQ((*model)->inputs().size(), 1u);
  EXPECT_EQ((*model)->inputs()[0].name, "x");
  EXPECT_EQ((*model)->inputs()[0].type, ElementType::kFloat);
  EXPECT_EQ((*model)->inputs()[0].shape, (std::vector<int64_t>{-1, 2}));
  ASSERT_EQ((*model)->outputs().size(), 2u);
  EXPECT_EQ((*model)->outputs()[0].name, "y:0");
  EXPECT_EQ((*model)->outputs()[0].shape, (std::vector<int64_t>{-1, 2}));
  EXPECT_EQ((*model)->outputs()[1].name, "z:0");
}

TEST(InferenceApi, RunsConcurrentlyWithTheRightValues) {
  auto model = Model::FromBytes(DenseModel());
  ASSERT_TRUE(model.ok()) << model.status();
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        const float a = static_cast<float>(t), b = static_cast<float>(i);
        auto out = (*model)->Run({{"x", Input({a, b})}});
        // [a, b] @ [[1,-1],[2,1]] + [0.5,-10] = [a + 2b + 0.5, -a + b - 10]
        const bool ok = out.ok() && out->size() == 2 &&
                        (*out)[0].data<float>()[0] == std::max(0.f, a + 2 * b + 0.5f) &&
                        (*out)[0].data<float>()[1] == std::max(0.f, -a + b - 10) &&
                        (*out)[1].data<float>()[0] == a + b;
        if (!ok) ++wrong;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(InferenceApi, NamedOutputsAndTimings) {
  auto model = Model::FromBytes(DenseModel());
  ASSERT_TRUE(model.ok());
  std::vector<NodeTiming> timings;
  auto out = (*model)->Run({{"x", Input({1, 2, 3, 4})}}, {"mm"}, &timings);
  ASSERT_TRUE(out.ok()) << out.status();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].shape(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ((*out)[0].data<float>()[0], 5);  // 1*1 + 2*2
  bool saw_matmul = false;
  for (const NodeTiming& t : timings) {
    if (t.op == "MatMul") saw_matmul = t.flops == 2 * 2 * 2 * 2;
  }
  EXPECT_TRUE(saw_matmul);
}

// Writing into a fetched constant never changes the constant later runs read.
TEST(InferenceApi, AnOutputIsTheCallersToChange) {
  auto model = Model::FromBytes(DenseModel());
  ASSERT_TRUE(model.ok());
  auto first = (*model)->Run({}, {"w"});
  ASSERT_TRUE(first.ok()) << first.status();
  (*first)[0].data<float>()[0] = 100;
  auto again = (*model)->Run({}, {"w"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)[0].data<float>()[0], 1);
}

TEST(InferenceApi, ErrorsSayWhatWasExpected) {
  auto model = Model::FromBytes(DenseModel());
  ASSERT_TRUE(model.ok());
  EXPECT_STATUS((*model)->Run({{"images", Input({1, 2})}}).status(),
                absl::StatusCode::kInvalidArgument, "no input 'images'", "inputs are: x");
  HostTensor wide(ElementType::kFloat, {1, 3});
  EXPECT_STATUS((*model)->Run({{"x", wide}}).status(), absl::StatusCode::kInvalidArgument,
                "shape [1,3]", "[?,2]");
  HostTensor ints(ElementType::kInt32, {1, 2});
  EXPECT_STATUS((*model)->Run({{"x", ints}}).status(), absl::StatusCode::kInvalidArgument,
                "int32", "float");
  EXPECT_STATUS((*model)->Run({}).status(), absl::StatusCode::kInvalidArgument,
                "must feed", "'x'");
  EXPECT_FALSE(Model::FromBytes("not a graph \x01\x02").ok());
  EXPECT_STATUS(Model::Load("/nonexistent/model.pb").status(), absl::StatusCode::kNotFound,
                "/nonexistent/model.pb");
}

}  // namespace
}  // namespace runnel
