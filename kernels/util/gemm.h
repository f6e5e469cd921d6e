// Dense matrix products for the kernels (MatMul, BatchMatMul, convolutions as im2col + GEMM).
// float products go to oneDNN's GEMM, other types to Eigen's; a large product is split into
// row or column blocks over the thread pool, each block one single-threaded GEMM, so no
// library-internal threading competes with the executor's (tools/bench/README.md).
#pragma once

#include <cstdint>

namespace runnel {

class ThreadPool;

// A row-major matrix operand: `rows` x `cols` stored with leading dimension `ld`, used
// transposed when `transposed`.
template <typename T>
struct MatrixArg {
  const T* data;
  int64_t rows, cols, ld;
  bool transposed = false;

  int64_t OpRows() const { return transposed ? cols : rows; }
  int64_t OpCols() const { return transposed ? rows : cols; }
};

// out[m, n] = op(a) * op(b) (+ out when `accumulate`), out row-major with leading dimension
// n. A null `pool` runs on the calling thread.
template <typename T>
void Gemm(const MatrixArg<T>& a, const MatrixArg<T>& b, T* out, bool accumulate, ThreadPool* pool);

template <typename T>
MatrixArg<T> Dense(const T* data, int64_t rows, int64_t cols, bool transposed = false) {
  return {data, rows, cols, cols, transposed};
}

}  // namespace runnel
