// GEMM choice for MatMul: Eigen vs serial OpenBLAS, each run the way Runnel runs it (the
// product split into one row block per thread, one single-threaded GEMM per block), float32.
//   ninja -C build gemm_blocks && build/tools/gemm_blocks
#include <cblas.h>

#include <chrono>
#include <cstdio>
#include <thread>
#include <vector>

#include "Eigen/Core"

namespace {

using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <typename Fn>
double GflopsOf(Fn&& fn, double flops) {
  for (int i = 0; i < 3; ++i) fn();
  const int reps = flops > 1e9 ? 20 : 200;
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) fn();
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps;
  return flops / seconds / 1e9;
}

// Runs block(first_row, rows) on `threads` threads over the m rows.
template <typename Block>
void InRowBlocks(int m, int threads, Block&& block) {
  std::vector<std::thread> helpers;
  const int step = (m + threads - 1) / threads;
  for (int t = 1; t < threads; ++t) {
    helpers.emplace_back([&, t] { block(t * step, std::min(m, (t + 1) * step) - t * step); });
  }
  block(0, std::min(m, step));
  for (auto& h : helpers) h.join();
}

}  // namespace

int main() {
  const int threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int shapes[][3] = {{128, 784, 512}, {128, 512, 512}, {784, 128, 512}, {1024, 1024, 1024}};
  std::printf("%-20s %12s %16s %14s   (GFLOP/s, %d threads)\n", "m x k x n", "Eigen",
              "OpenBLAS serial", "1 thread", threads);
  for (const auto& s : shapes) {
    const int m = s[0], k = s[1], n = s[2];
    Matrix a = Matrix::Random(m, k), b = Matrix::Random(k, n), c(m, n);
    const double flops = 2.0 * m * k * n;
    double eigen = GflopsOf(
        [&] {
          InRowBlocks(m, threads, [&](int r, int rows) {
            c.middleRows(r, rows).noalias() = a.middleRows(r, rows) * b;
          });
        },
        flops);
    auto blas_rows = [&](int r, int rows) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, n, k, 1.0f, a.data() + r * k, k,
                  b.data(), n, 0.0f, c.data() + r * n, n);
    };
    double blas = GflopsOf([&] { InRowBlocks(m, threads, blas_rows); }, flops);
    double blas1 = GflopsOf([&] { blas_rows(0, m); }, flops);
    char label[32];
    std::snprintf(label, sizeof(label), "%d x %d x %d", m, k, n);
    std::printf("%-20s %12.1f %16.1f %14.1f\n", label, eigen, blas, blas1);
  }
}
