// The GEMM choice for MatMul, measured the way Runnel runs GEMMs: the product split into
// one block per pool thread, one single-threaded GEMM per block, float32. Compares Runnel's
// GEMM (oneDNN, operands with 2 KiB rows copied through padded scratch), the same without
// the padding (raw oneDNN blocks), Eigen's GEMM in the same blocks, one thread, and
// oneDNN's GEMM on its own OpenMP threads (the best BLAS here called its own way), against
// the machine's peak: a loop of independent 8-wide FMAs on every thread.
//   ninja -C build gemm_blocks && build/tools/gemm_blocks
#include <omp.h>

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
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

// Uses `value` where the optimizer cannot see, so the loop computing it stays.
void KeepAlive(float value) { asm volatile("" : : "x"(value)); }

// GFLOP/s of `threads` threads each running 12 independent chains of 8-wide fused
// multiply-adds (enough in flight to cover the FMA units' latency): the machine's peak.
double FmaPeak(int threads) {
  constexpr int64_t kIterations = 20'000'000;
  auto chain = [] {
    __m256 acc[12];
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(float(i));
    const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
    for (int64_t it = 0; it < kIterations; ++it) {
      for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    float sink = 0;
    for (int i = 0; i < 12; ++i) sink += _mm256_cvtss_f32(acc[i]);
    return sink;
  };
  double best = 1e9;
  for (int round = 0; round < 3; ++round) {
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> workers;
    std::vector<float> sinks(threads);
    for (int t = 0; t < threads; ++t) workers.emplace_back([&, t] { sinks[t] = chain(); });
    for (auto& w : workers) w.join();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    KeepAlive(sinks[0]);
  }
  return 2.0 * 8 * 12 * kIterations * threads / best / 1e9;
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
  const double peak = FmaPeak(threads);
  std::printf("FMA peak: %.1f GFLOP/s on %d threads (%.1f on one)\n", peak, threads,
              FmaPeak(1));
  std::printf("%-22s %10s %12s %10s %12s %14s %8s   (GFLOP/s, %d threads)\n", "m x k x n",
              "Runnel", "oneDNN raw", "Eigen", "1 thread", "oneDNN OpenMP", "% peak",
              threads);
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
    omp_set_num_threads(threads);
    const double onednn_omp = GflopsOf(
        [&] {
          dnnl_sgemm(c.ta ? 'T' : 'N', c.tb ? 'T' : 'N', c.m, c.n, c.k, 1.0f, a.data(),
                     a.cols(), b.data(), b.cols(), 0.0f, out.data(), c.n);
        },
        flops);
    omp_set_num_threads(1);
    char label[40];
    std::snprintf(label, sizeof(label), "%d x %d x %d%s", c.m, c.k, c.n,
                  c.ta ? " (A^T)" : c.tb ? " (B^T)" : "");
    std::printf("%-22s %10.1f %12.1f %10.1f %12.1f %14.1f %7.0f%%\n", label, runnel_gemm, raw,
                eigen, one_thread, onednn_omp, 100 * runnel_gemm / peak);
  }
}
