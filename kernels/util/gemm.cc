#include "kernels/util/gemm.h"

#include <omp.h>

#include <algorithm>
#include <vector>

#include "Eigen/Core"
#include "core/threadpool.h"
#include "oneapi/dnnl/dnnl.h"

namespace runnel {
namespace {

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMap = Eigen::Map<const RowMatrix<T>, 0, Eigen::OuterStride<>>;
template <typename T>
using OutMap = Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>>;

// Below this many multiply-adds, Eigen's inlined product beats oneDNN's call overhead.
constexpr int64_t kSmallProduct = 16 * 1024;

// Rows [r0, r0+rows) of op(a), or columns [c0, c0+cols) of op(b), as an operand of its own.
template <typename T>
MatrixArg<T> OpRowBlock(const MatrixArg<T>& a, int64_t r0, int64_t rows) {
  MatrixArg<T> block = a;
  if (a.transposed) {
    block.data += r0;
    block.cols = rows;
  } else {
    block.data += r0 * a.ld;
    block.rows = rows;
  }
  return block;
}

template <typename T>
MatrixArg<T> OpColBlock(const MatrixArg<T>& b, int64_t c0, int64_t cols) {
  MatrixArg<T> block = b;
  if (b.transposed) {
    block.data += c0 * b.ld;
    block.rows = cols;
  } else {
    block.data += c0;
    block.cols = cols;
  }
  return block;
}

template <typename T>
void EigenGemm(const MatrixArg<T>& a, const MatrixArg<T>& b, T* out, int64_t ldo, bool accumulate) {
  ConstMap<T> am(a.data, a.rows, a.cols, Eigen::OuterStride<>(a.ld));
  ConstMap<T> bm(b.data, b.rows, b.cols, Eigen::OuterStride<>(b.ld));
  OutMap<T> c(out, a.OpRows(), b.OpCols(), Eigen::OuterStride<>(ldo));
  auto product = [&](const auto& x, const auto& y) {
    if (accumulate) {
      c.noalias() += x * y;
    } else {
      c.noalias() = x * y;
    }
  };
  if (!a.transposed && !b.transposed) product(am, bm);
  if (!a.transposed && b.transposed) product(am, bm.transpose());
  if (a.transposed && !b.transposed) product(am.transpose(), bm);
  if (a.transposed && b.transposed) product(am.transpose(), bm.transpose());
}

template <typename T>
void BlockGemm(const MatrixArg<T>& a, const MatrixArg<T>& b, T* out, int64_t ldo, bool accumulate) {
  EigenGemm(a, b, out, ldo, accumulate);
}

// oneDNN runs its GEMM on OpenMP threads; Runnel's pool already provides the parallelism,
// so every thread that calls it asks OpenMP for a team of one, once.
void UseOneOpenMpThread() {
  thread_local const bool once = [] {
    omp_set_num_threads(1);
    return true;
  }();
  (void)once;
}

// oneDNN refuses only arguments Runnel never passes; should it refuse, Eigen does the product.
void OneDnnGemm(const MatrixArg<float>& a, const MatrixArg<float>& b, float* out, int64_t ldo,
                bool accumulate) {
  UseOneOpenMpThread();
  if (dnnl_sgemm(a.transposed ? 'T' : 'N', b.transposed ? 'T' : 'N', a.OpRows(), b.OpCols(),
                 a.OpCols(), 1.0f, a.data, a.ld, b.data, b.ld, accumulate ? 1.0f : 0.0f, out,
                 ldo) != dnnl_success) {
    EigenGemm(a, b, out, ldo, accumulate);
  }
}

// A plain B whose rows lie a multiple of 2 KiB apart makes oneDNN's packing of B collide in
// the same cache sets: 25-35% slower for products of up to a few hundred rows, the MLP's
// among them (tools/bench/README.md). Such a B goes through a scratch copy with padded rows,
// kPadChunk rows of it (one slice of the inner dimension) at a time.
constexpr int64_t kPadChunk = 256;

bool BRowsCollide(const MatrixArg<float>& a, const MatrixArg<float>& b) {
  return !b.transposed && b.ld % 512 == 0 && a.OpRows() <= 512 && b.rows >= 64;
}

void PaddedOneDnnGemm(const MatrixArg<float>& a, const MatrixArg<float>& b, float* out, int64_t ldo,
                      bool accumulate) {
  thread_local std::vector<float> scratch;
  const int64_t n = b.cols, ld = n + 16;
  scratch.resize(std::min(kPadChunk, b.rows) * ld);
  for (int64_t p0 = 0; p0 < b.rows; p0 += kPadChunk) {
    const int64_t rows = std::min(kPadChunk, b.rows - p0);
    for (int64_t r = 0; r < rows; ++r) {
      std::copy_n(b.data + (p0 + r) * b.ld, n, scratch.data() + r * ld);
    }
    MatrixArg<float> a_slice = a;  // op(a)[:, p0 : p0+rows]
    if (a.transposed) {
      a_slice.data += p0 * a.ld;
      a_slice.rows = rows;
    } else {
      a_slice.data += p0;
      a_slice.cols = rows;
    }
    OneDnnGemm(a_slice, {scratch.data(), rows, n, ld}, out, ldo, accumulate || p0 > 0);
  }
}

template <>
void BlockGemm<float>(const MatrixArg<float>& a, const MatrixArg<float>& b, float* out, int64_t ldo,
                      bool accumulate) {
  const int64_t m = a.OpRows(), k = a.OpCols(), n = b.OpCols();
  if (m * k * n < kSmallProduct) {
    EigenGemm(a, b, out, ldo, accumulate);
  } else if (BRowsCollide(a, b)) {
    PaddedOneDnnGemm(a, b, out, ldo, accumulate);
  } else {
    OneDnnGemm(a, b, out, ldo, accumulate);
  }
}

}  // namespace

template <typename T>
void Gemm(const MatrixArg<T>& a, const MatrixArg<T>& b, T* out, bool accumulate, ThreadPool* pool) {
  const int64_t m = a.OpRows(), k = a.OpCols(), n = b.OpCols();
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate) std::fill(out, out + m * n, T(0));
    return;
  }
  // Split whichever of m, n is larger into blocks at least 16 wide, one per thread.
  const bool by_rows = m >= n;
  const int64_t extent = by_rows ? m : n;
  const int64_t cost = (by_rows ? n : m) * k;
  const int64_t blocks = std::min<int64_t>(extent / 16 + 1, pool ? pool->NumThreads() : 1);
  if (blocks <= 1 || extent * cost < (int64_t{1} << 15)) {
    BlockGemm(a, b, out, n, accumulate);
    return;
  }
  const int64_t step = (extent + blocks - 1) / blocks;
  pool->ParallelFor(blocks, cost * step, [&](int64_t first, int64_t last) {
    for (int64_t i = first; i < last; ++i) {
      const int64_t begin = i * step, size = std::min(extent, begin + step) - begin;
      if (by_rows) {
        BlockGemm(OpRowBlock(a, begin, size), b, out + begin * n, n, accumulate);
      } else {
        BlockGemm(a, OpColBlock(b, begin, size), out + begin, n, accumulate);
      }
    }
  });
}

template void Gemm<float>(const MatrixArg<float>&, const MatrixArg<float>&, float*, bool,
                          ThreadPool*);
template void Gemm<double>(const MatrixArg<double>&, const MatrixArg<double>&, double*, bool,
                           ThreadPool*);
template void Gemm<int32_t>(const MatrixArg<int32_t>&, const MatrixArg<int32_t>&, int32_t*, bool,
                            ThreadPool*);
template void Gemm<int64_t>(const MatrixArg<int64_t>&, const MatrixArg<int64_t>&, int64_t*, bool,
                            ThreadPool*);

}  // namespace runnel
