// Hand-computed kernel cases in C++. The broad comparison of every kernel against numpy,
// over dtypes, broadcasting, empty tensors and scalars, is tests/python/test_kernels.py.
#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::ConstNode;
using testing::MakeGraph;
using testing::MakeNode;
using testing::MakeTensor;
using testing::RunGraph;
using testing::Values;

absl::StatusOr<Tensor> Eval(std::initializer_list<NodeDef> nodes, const std::string& fetch) {
  auto out = RunGraph(MakeGraph(nodes), {}, {fetch});
  if (!out.ok()) return out.status();
  return (*out)[0];
}

TEST(MatMul, TransposeFlagsMatchHandComputedProducts) {
  Tensor a = MakeTensor<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor b = MakeTensor<float>({3, 2}, {1, 0, 0, 1, 1, 1});
  auto ab = Eval({ConstNode("a", a), ConstNode("b", b), MakeNode("p", "MatMul", {"a", "b"})}, "p");
  ASSERT_TRUE(ab.ok()) << ab.status();
  EXPECT_EQ(Values<float>(*ab), (std::vector<float>{4, 5, 10, 11}));
  // a^T (3x2) @ a (2x3) = 3x3
  auto ata = Eval(
      {ConstNode("a", a), MakeNode("p", "MatMul", {"a", "a"}, {{"transpose_a", MakeAttr(true)}})},
      "p");
  ASSERT_TRUE(ata.ok()) << ata.status();
  EXPECT_EQ(Values<float>(*ata), (std::vector<float>{17, 22, 27, 22, 29, 36, 27, 36, 45}));
  auto abt = Eval(
      {ConstNode("a", a), MakeNode("p", "MatMul", {"a", "a"}, {{"transpose_b", MakeAttr(true)}})},
      "p");
  ASSERT_TRUE(abt.ok()) << abt.status();
  EXPECT_EQ(Values<float>(*abt), (std::vector<float>{14, 32, 32, 77}));
}

TEST(MatMul, LargeProductUsesBlocksAndStaysExact) {
  // 200x300 @ 300x100 of small integers: every block boundary must line up.
  Tensor a(DT_FLOAT, TensorShape{200, 300}), b(DT_FLOAT, TensorShape{300, 100});
  for (int64_t i = 0; i < a.NumElements(); ++i) a.data<float>()[i] = static_cast<float>(i % 7);
  for (int64_t i = 0; i < b.NumElements(); ++i) b.data<float>()[i] = static_cast<float>(i % 5);
  auto p = Eval({ConstNode("a", a), ConstNode("b", b), MakeNode("p", "MatMul", {"a", "b"})}, "p");
  ASSERT_TRUE(p.ok()) << p.status();
  for (int i : {0, 57, 199}) {
    for (int j : {0, 33, 99}) {
      double expect = 0;
      for (int k = 0; k < 300; ++k) expect += (i * 300 + k) % 7 * ((k * 100 + j) % 5);
      EXPECT_EQ(p->data<float>()[i * 100 + j], expect) << i << "," << j;
    }
  }
}

TEST(MatMul, ConcurrentProductsDoNotShareState) {
  // MatMuls from several threads at once, small and medium (a GEMM library that shares
  // scratch buffers between threads — Debian's serial OpenBLAS does for small products —
  // returns another thread's product here).
  auto session = DirectSession::Create(
      MakeGraph({testing::PlaceholderNode("a", DT_FLOAT), testing::PlaceholderNode("b", DT_FLOAT),
                 MakeNode("p", "MatMul", {"a", "b"})}));
  ASSERT_TRUE(session.ok()) << session.status();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int64_t m : {4, 96}) {
        const int64_t k = m * 2 / 3, n = m * 5 / 6;
        Tensor a(DT_FLOAT, TensorShape{m, k}), b(DT_FLOAT, TensorShape{k, n});
        for (int64_t i = 0; i < a.NumElements(); ++i) a.data<float>()[i] = float((i + t) % 5);
        for (int64_t i = 0; i < b.NumElements(); ++i) b.data<float>()[i] = float((i * 3 + t) % 7);
        std::vector<float> want(m * n, 0.0f);  // small integers: exact in float
        for (int64_t i = 0; i < m; ++i)
          for (int64_t p = 0; p < k; ++p)
            for (int64_t j = 0; j < n; ++j)
              want[i * n + j] += a.data<float>()[i * k + p] * b.data<float>()[p * n + j];
        for (int run = 0; run < 400; ++run) {
          std::vector<Tensor> out;
          if (!(*session)->Run({{"a", a}, {"b", b}}, {"p"}, {}, &out).ok() ||
              Values<float>(out[0]) != want) {
            ++wrong;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(Reduction, OverSizeOneAxesIsTheInputReshaped) {
  // Broadcast gradients reduce over size-1 axes only; the result shares the input's buffer.
  Tensor x = MakeTensor<float>({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  for (const char* op : {"Sum", "Mean", "Max", "Prod"}) {
    auto out = Eval({ConstNode("x", x), ConstNode("axes", MakeTensor<int32_t>({1}, {1})),
                     MakeNode("r", op, {"x", "axes"})},
                    "r");
    ASSERT_TRUE(out.ok()) << op << ": " << out.status();
    EXPECT_EQ(out->shape(), (TensorShape{2, 3})) << op;
    EXPECT_EQ(Values<float>(*out), (std::vector<float>{1, 2, 3, 4, 5, 6})) << op;
  }
}

TEST(Cwise, BroadcastAddOfColumnAndRow) {
  auto out =
      Eval({ConstNode("a", MakeTensor<int32_t>({3, 1}, {0, 10, 20})),
            ConstNode("b", MakeTensor<int32_t>({2}, {1, 2})), MakeNode("s", "AddV2", {"a", "b"})},
           "s");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->shape(), TensorShape({3, 2}));
  EXPECT_EQ(Values<int32_t>(*out), (std::vector<int32_t>{1, 2, 11, 12, 21, 22}));
}

TEST(Cwise, IncompatibleShapesNameBoth) {
  auto out = RunGraph(
      MakeGraph({testing::PlaceholderNode("a", DT_FLOAT), testing::PlaceholderNode("b", DT_FLOAT),
                 MakeNode("s", "Mul", {"a", "b"})}),
      {{"a", Tensor(DT_FLOAT, TensorShape{2, 3})}, {"b", Tensor(DT_FLOAT, TensorShape{4})}}, {"s"});
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument, "[2,3] vs. [4]",
                "[[node s (Mul)");
}

TEST(Cwise, IntegerDivisionByZeroIsAnErrorNotACrash) {
  auto out = Eval(
      {ConstNode("a", MakeTensor<int32_t>({2}, {1, 2})),
       ConstNode("b", MakeTensor<int32_t>({2}, {1, 0})), MakeNode("d", "FloorDiv", {"a", "b"})},
      "d");
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument, "division by zero",
                "[[node d (FloorDiv)");
}

TEST(Reduction, SumOverTwoSeparatedAxes) {
  // x[i,j,k] = i*100 + j*10 + k on [2,3,4]; summing axes 0 and 2 leaves j.
  Tensor x(DT_INT64, TensorShape{2, 3, 4});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) x.data<int64_t>()[(i * 3 + j) * 4 + k] = i * 100 + j * 10 + k;
  auto out = Eval({ConstNode("x", x), ConstNode("axes", MakeTensor<int32_t>({2}, {0, -1})),
                   MakeNode("s", "Sum", {"x", "axes"}, {{"keep_dims", MakeAttr(true)}})},
                  "s");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->shape(), TensorShape({1, 3, 1}));
  // sum_i sum_k (100i + 10j + k) = 400 + 80j + 12
  EXPECT_EQ(Values<int64_t>(*out), (std::vector<int64_t>{412, 492, 572}));
}

TEST(Softmax, IsStableForLargeLogits) {
  auto out = Eval({ConstNode("x", MakeTensor<float>({1, 3}, {1e4f, 1e4f, -1e4f})),
                   MakeNode("s", "Softmax", {"x"})},
                  "s");
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(Values<float>(*out), (std::vector<float>{0.5f, 0.5f, 0}));
}

TEST(GatherV2, OutOfRangeIndexNamesIt) {
  auto out = Eval({ConstNode("p", MakeTensor<float>({3}, {1, 2, 3})),
                   ConstNode("i", MakeTensor<int32_t>({2}, {0, 7})),
                   ConstNode("axis", Tensor::Scalar<int32_t>(0)),
                   MakeNode("g", "GatherV2", {"p", "i", "axis"})},
                  "g");
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument, "indices[1] = 7",
                "not in [0, 3)");
}

TEST(Reshape, BadSizeNamesBothShapes) {
  auto out = RunGraph(MakeGraph({testing::PlaceholderNode("x", DT_FLOAT),
                                 ConstNode("s", MakeTensor<int32_t>({2}, {5, -1})),
                                 MakeNode("r", "Reshape", {"x", "s"})}),
                      {{"x", Tensor(DT_FLOAT, TensorShape{2, 3})}}, {"r"});
  EXPECT_STATUS(out.status(), absl::StatusCode::kInvalidArgument, "6 elements", "[5,-1]");
}

}  // namespace
}  // namespace runnel
