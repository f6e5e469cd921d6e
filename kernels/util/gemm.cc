#include "kernels/util/gemm.h"

#include <omp.h>

#include <algorithm>
#include <type_traits>
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

// Stored rows [first, first+count) of x when `rows`, else stored columns, as an operand of
// its own: a block of op(a)'s rows or op(b)'s columns, or a slice of the inner dimension.
template <typename T>
MatrixArg<T> StorageSlice(MatrixArg<T> x, bool rows, int64_t first, int64_t count) {
  if (rows) {
    x.data += first * x.ld;
    x.rows = count;
  } else {
    x.data += first;
    x.cols = count;
  }
  return x;
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

// oneDNN packs a plain B, or a transposed A, by walking down its stored rows. Rows a
// multiple of 2 KiB apart land in the same cache sets, which makes products of up to a few
// hundred rows or columns 25-35% slower, the MLP's among them (tools/bench/README.md). Such
// an operand goes through a per-thread scratch copy with padded rows, kPadChunk rows (one
// slice of the inner dimension) at a time; rows of up to kPadMaxCols floats, so the scratch
// stays under 4 MiB.
constexpr int64_t kPadChunk = 256, kPadMaxCols = 4096;

bool RowsCollide(const MatrixArg<float>& x, bool packed_down_rows, int64_t other_extent) {
  return packed_down_rows && x.ld % 512 == 0 && other_extent <= 512 && x.rows >= 64 &&
         x.cols <= kPadMaxCols;
}

MatrixArg<float> PaddedCopy(const MatrixArg<float>& x, std::vector<float>* scratch) {
  const int64_t ld = x.cols + 16;
  scratch->resize(x.rows * ld);
  for (int64_t r = 0; r < x.rows; ++r) {
    std::copy_n(x.data + r * x.ld, x.cols, scratch->data() + r * ld);
  }
  return {scratch->data(), x.rows, x.cols, ld, x.transposed};
}

void PaddedOneDnnGemm(const MatrixArg<float>& a, const MatrixArg<float>& b, float* out, int64_t ldo,
                      bool accumulate) {
  thread_local std::vector<float> a_scratch, b_scratch;
  const int64_t m = a.OpRows(), k = a.OpCols(), n = b.OpCols();
  const bool pad_a = RowsCollide(a, a.transposed, n), pad_b = RowsCollide(b, !b.transposed, m);
  for (int64_t p0 = 0; p0 < k; p0 += kPadChunk) {
    const int64_t len = std::min(kPadChunk, k - p0);
    MatrixArg<float> a_slice = StorageSlice(a, a.transposed, p0, len);
    MatrixArg<float> b_slice = StorageSlice(b, !b.transposed, p0, len);
    if (pad_a) a_slice = PaddedCopy(a_slice, &a_scratch);
    if (pad_b) b_slice = PaddedCopy(b_slice, &b_scratch);
    OneDnnGemm(a_slice, b_slice, out, ldo, accumulate || p0 > 0);
  }
}

template <>
void BlockGemm<float>(const MatrixArg<float>& a, const MatrixArg<float>& b, float* out, int64_t ldo,
                      bool accumulate) {
  const int64_t m = a.OpRows(), k = a.OpCols(), n = b.OpCols();
  if (m * k * n < kSmallProduct) {
    EigenGemm(a, b, out, ldo, accumulate);
  } else if (RowsCollide(a, a.transposed, n) || RowsCollide(b, !b.transposed, m)) {
    PaddedOneDnnGemm(a, b, out, ldo, accumulate);
  } else {
    OneDnnGemm(a, b, out, ldo, accumulate);
  }
}

// A few rows times a plain B (batch-1 inference: x [1, K] times weights [K, N]): B is read
// once, row by row, into the outputs. A GEMM would pack all of B first, and for a big layer
// that copy costs more than the product.
constexpr int64_t kStreamMaxRows = 4;

void StreamRowsGemm(const MatrixArg<float>& a, const MatrixArg<float>& b, float* out,
                    bool accumulate) {
  const int64_t m = a.OpRows(), k = a.OpCols(), n = b.OpCols();
  if (!accumulate) std::fill(out, out + m * n, 0.0f);
  auto x = [&](int64_t r, int64_t p) {
    return a.transposed ? a.data[p * a.ld + r] : a.data[r * a.ld + p];
  };
  // Four rows of B per pass over the outputs: a quarter of the outputs' loads and stores.
  int64_t p = 0;
  for (; p + 4 <= k; p += 4) {
    const float* b0 = b.data + p * b.ld;
    const float *b1 = b0 + b.ld, *b2 = b1 + b.ld, *b3 = b2 + b.ld;
    for (int64_t r = 0; r < m; ++r) {
      const float x0 = x(r, p), x1 = x(r, p + 1), x2 = x(r, p + 2), x3 = x(r, p + 3);
      float* y = out + r * n;
      for (int64_t j = 0; j < n; ++j) y[j] += x0 * b0[j] + x1 * b1[j] + x2 * b2[j] + x3 * b3[j];
    }
  }
  for (; p < k; ++p) {
    const float* row = b.data + p * b.ld;
    for (int64_t r = 0; r < m; ++r) {
      const float xr = x(r, p);
      float* y = out + r * n;
      for (int64_t j = 0; j < n; ++j) y[j] += xr * row[j];
    }
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
  if constexpr (std::is_same_v<T, float>) {
    if (m <= kStreamMaxRows && !b.transposed && k * n >= kSmallProduct) {
      // One slice of the inner dimension per thread: each streams a contiguous block of B's
      // rows, which the hardware prefetcher follows best, into outputs of its own.
      const int64_t blocks = std::min<int64_t>(pool ? pool->NumThreads() : 1, k / 64 + 1);
      std::vector<float> partials((blocks - 1) * m * n);
      auto run = [&](int64_t first, int64_t last) {
        for (int64_t i = first; i < last; ++i) {
          const int64_t p0 = k * i / blocks, p1 = k * (i + 1) / blocks;
          StreamRowsGemm(StorageSlice(a, a.transposed, p0, p1 - p0),
                         StorageSlice(b, /*rows=*/true, p0, p1 - p0),
                         i == 0 ? out : partials.data() + (i - 1) * m * n, i == 0 && accumulate);
        }
      };
      if (blocks <= 1) {
        run(0, 1);
        return;
      }
      pool->ParallelFor(blocks, m * n * (k / blocks), run);
      for (int64_t i = 1; i < blocks; ++i) {
        const float* part = partials.data() + (i - 1) * m * n;
        for (int64_t j = 0; j < m * n; ++j) out[j] += part[j];
      }
      return;
    }
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
        BlockGemm(StorageSlice(a, !a.transposed, begin, size), b, out + begin * n, n, accumulate);
      } else {
        BlockGemm(a, StorageSlice(b, b.transposed, begin, size), out + begin, n, accumulate);
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
