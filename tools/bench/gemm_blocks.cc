// The GEMM choice for MatMul, measured the way Runnel runs GEMMs: the product split into
// one block per pool thread, one single-threaded GEMM per block, float32. Compares Runnel's
// GEMM (oneDNN, operands with 2 KiB rows copied through padded scratch), the same without
// the padding (raw oneDNN blocks), Eigen's GEMM in the same blocks, and one thread.
//   ninja -C build gemm_blocks && build/tools/gemm_blocks
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "Eigen/Core"
#include "core/threadpool.h"
#include "kernels/util/gemm.h"
#include "oneapi/dnnl/dnnl.h"
#include "runtime/threadpool.h"

namespace {

using runnel::MatrixArg;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename Fn>
double GflopsOf(Fn&& fn, double flops) {
  for (int i = 0; i < 3; ++i) fn();
  const int reps = flops > 1e9 ? 10 : 100;
  double best = 1e9;
  for (int round = 0; round < 5; ++round) {  // best of 5: the machine is noisy
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) fn();
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  return flops * reps / best / 1e9;
}

struct Case {
  int m, k, n;
  bool ta, tb;
};

}  // namespace

int main() {
  const int threads = runnel::NumSchedulableCpus();
  runnel::WorkerThreadPool pool("gemm_blocks", threads);
  // The MLP's forward, backward-input and backward-weight products, and a square one.
  const Case cases[] = {{128, 784, 512, false, false}, {128, 512, 512, false, false},
                        {128, 512, 784, false, true},  {784, 128, 512, true, false},
                        {512, 128, 512, true, false},  {1024, 1024, 1024, false, false}};
  std::printf("%-22s %10s %12s %10s %12s   (GFLOP/s, %d threads)\n", "m x k x n", "Runnel",
              "oneDNN raw", "Eigen", "1 thread", threads);
  for (const Case& c : cases) {
    Matrix a = c.ta ? Matrix::Random(c.k, c.m) : Matrix::Random(c.m, c.k);
    Matrix b = c.tb ? Matrix::Random(c.n, c.k) : Matrix::Random(c.k, c.n);
    Matrix out(c.m, c.n);
    const MatrixArg<float> a_arg = runnel::Dense(a.data(), a.rows(), a.cols(), c.ta);
    const MatrixArg<float> b_arg = runnel::Dense(b.data(), b.rows(), b.cols(), c.tb);
    const double flops = 2.0 * c.m * c.k * c.n;
    // Column blocks when n >= m, as Runnel splits; each block one single-threaded call.
    auto in_blocks = [&](auto&& block) {
      const bool by_rows = c.m >= c.n;
      const int extent = by_rows ? c.m : c.n, step = (extent + threads - 1) / threads;
      pool.ParallelFor(threads, int64_t{1} << 30, [&](int64_t first, int64_t last) {
        for (int64_t i = first; i < last; ++i) {
          const int begin = i * step, size = std::min(extent, begin + step) - begin;
          if (by_rows) block(begin, size, 0, c.n);
          if (!by_rows) block(0, c.m, begin, size);
        }
      });
    };
    const double runnel_gemm =
        GflopsOf([&] { runnel::Gemm(a_arg, b_arg, out.data(), false, &pool); }, flops);
    const double raw = GflopsOf(
        [&] {
          in_blocks([&](int r0, int rows, int c0, int cols) {
            omp_set_num_threads(1);
            dnnl_sgemm(c.ta ? 'T' : 'N', c.tb ? 'T' : 'N', rows, cols, c.k, 1.0f,
                       a.data() + (c.ta ? r0 : r0 * a.cols()), a.cols(),
                       b.data() + (c.tb ? c0 * b.cols() : c0), b.cols(), 0.0f,
                       out.data() + r0 * c.n + c0, c.n);
          });
        },
        flops);
    const double eigen = GflopsOf(
        [&] {
          in_blocks([&](int r0, int rows, int c0, int cols) {
            auto dst = out.block(r0, c0, rows, cols);
            if (!c.ta && !c.tb) dst.noalias() = a.middleRows(r0, rows) * b.middleCols(c0, cols);
            if (!c.ta && c.tb) {
              dst.noalias() = a.middleRows(r0, rows) * b.transpose().middleCols(c0, cols);
            }
            if (c.ta && !c.tb) {
              dst.noalias() = a.transpose().middleRows(r0, rows) * b.middleCols(c0, cols);
            }
          });
        },
        flops);
    const double one_thread =
        GflopsOf([&] { runnel::Gemm(a_arg, b_arg, out.data(), false, nullptr); }, flops);
    char label[40];
    std::snprintf(label, sizeof(label), "%d x %d x %d%s", c.m, c.k, c.n,
                  c.ta ? " (A^T)" : c.tb ? " (B^T)" : "");
    std::printf("%-22s %10.1f %12.1f %10.1f %12.1f\n", label, runnel_gemm, raw, eigen,
                one_thread);
  }
}
