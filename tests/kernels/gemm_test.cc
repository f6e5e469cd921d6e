// kernels/util/gemm: every transpose combination, row and column blocking across threads,
// accumulation and leading dimensions wider than the matrix, against a float64 loop.
#include "kernels/util/gemm.h"

#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "runtime/threadpool.h"

namespace runnel {
namespace {

struct Shape {
  int64_t m, k, n;
};

// Stored operand for op(x) of op_rows x op_cols, with `pad` unused columns per stored row.
struct Operand {
  std::vector<float> storage;
  MatrixArg<float> arg;
  float At(int64_t i, int64_t j) const {  // op(x)[i, j]
    return arg.transposed ? storage[j * arg.ld + i] : storage[i * arg.ld + j];
  }
};

Operand MakeOperand(int64_t op_rows, int64_t op_cols, bool transposed, int64_t pad,
                    std::mt19937* rng) {
  const int64_t rows = transposed ? op_cols : op_rows, cols = transposed ? op_rows : op_cols;
  Operand x;
  x.storage.resize(rows * (cols + pad));
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (float& v : x.storage) v = dist(*rng);
  x.arg = {x.storage.data(), rows, cols, cols + pad, transposed};
  return x;
}

void ExpectProduct(Shape s, bool ta, bool tb, bool accumulate, int64_t pad, ThreadPool* pool) {
  std::mt19937 rng(s.m * 7 + s.k * 3 + s.n + ta * 2 + tb);
  Operand a = MakeOperand(s.m, s.k, ta, pad, &rng), b = MakeOperand(s.k, s.n, tb, pad, &rng);
  std::vector<float> out(s.m * s.n, 0.5f);
  Gemm(a.arg, b.arg, out.data(), accumulate, pool);
  for (int64_t i = 0; i < s.m; ++i) {
    for (int64_t j = 0; j < s.n; ++j) {
      double want = accumulate ? 0.5 : 0.0;
      for (int64_t p = 0; p < s.k; ++p) want += double(a.At(i, p)) * b.At(p, j);
      ASSERT_NEAR(out[i * s.n + j], want, 1e-4 * (1 + s.k))
          << s.m << "x" << s.k << "x" << s.n << " ta=" << ta << " tb=" << tb
          << " accumulate=" << accumulate << " pad=" << pad << " at [" << i << "," << j << "]";
    }
  }
}

TEST(Gemm, FloatMatchesReferenceForEveryTransposeAndBlocking) {
  WorkerThreadPool pool("gemm_test", 3);
  // Tiny (Eigen), tall (row blocks), wide (column blocks), a vector, odd sizes,
  // operands with 2 KiB rows (copied through padded scratch, in two slices of the inner
  // dimension when it is over 256), and a few rows against a large B (streamed, in
  // slices of the inner dimension, one per thread, summed).
  const Shape shapes[] = {{3, 5, 4},       {300, 70, 40},   {20, 90, 333},
                          {1, 257, 129},   {67, 1, 45},     {100, 300, 512},
                          {20, 300, 1024}, {512, 300, 100}, {512, 130, 512},
                          {1, 700, 1000},  {3, 129, 517},   {4, 64, 300}};
  for (Shape s : shapes) {
    for (bool ta : {false, true}) {
      for (bool tb : {false, true}) {
        for (bool accumulate : {false, true}) {
          ExpectProduct(s, ta, tb, accumulate, /*pad=*/0, &pool);
          ExpectProduct(s, ta, tb, accumulate, /*pad=*/3, nullptr);
        }
      }
    }
  }
}

TEST(Gemm, EmptyInnerDimensionGivesZerosOrLeavesTheSum) {
  std::vector<float> out(6, 2.0f);
  const MatrixArg<float> a{nullptr, 2, 0, 0}, b{nullptr, 0, 3, 3};
  Gemm(a, b, out.data(), /*accumulate=*/true, nullptr);
  EXPECT_EQ(out, std::vector<float>(6, 2.0f));
  Gemm(a, b, out.data(), /*accumulate=*/false, nullptr);
  EXPECT_EQ(out, std::vector<float>(6, 0.0f));
}

TEST(Gemm, IntegerProductsAreExact) {
  const std::vector<int64_t> a = {1, 2, 3, 4, 5, 6}, b = {7, 8, 9, 10, 11, 12};
  std::vector<int64_t> out(4);
  Gemm(Dense(a.data(), 2, 3), Dense(b.data(), 3, 2), out.data(), false, nullptr);
  EXPECT_EQ(out, (std::vector<int64_t>{58, 64, 139, 154}));
}

}  // namespace
}  // namespace runnel
