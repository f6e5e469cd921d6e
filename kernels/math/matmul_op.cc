// MatMul and BatchMatMul(V2) with Eigen's GEMM. Large products are split into row (or
// column) blocks across the thread pool; each block is one single-threaded Eigen GEMM, so no
// library-internal threading competes with the executor's. (OpenBLAS is faster but Debian's
// builds cannot serve concurrent single-threaded calls safely: tools/bench/README.md.)
#include "Eigen/Core"
#include "core/kernel_registry.h"
#include "kernels/util/broadcast.h"

namespace runnel {
namespace {

template <typename T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMatrix<T>>;
template <typename T>
using MatrixMap = Eigen::Map<RowMatrix<T>>;

// out[m,n] = op(a) * op(b), where a is stored [a_rows, a_cols] (row-major) and op transposes
// when asked.
template <typename T>
struct GemmArgs {
  const T* a;
  int64_t a_rows, a_cols;
  bool ta;
  const T* b;
  int64_t b_rows, b_cols;
  bool tb;
  T* out;
  int64_t m, k, n;
};

// out[r0 : r0+rows, c0 : c0+cols] = op(a)[r0 : r0+rows, :] * op(b)[:, c0 : c0+cols].
template <typename T>
void GemmBlock(const GemmArgs<T>& g, int64_t r0, int64_t rows, int64_t c0, int64_t cols) {
  ConstMatrixMap<T> A(g.a, g.a_rows, g.a_cols), B(g.b, g.b_rows, g.b_cols);
  auto c = MatrixMap<T>(g.out, g.m, g.n).block(r0, c0, rows, cols);
  if (!g.ta && !g.tb) {
    c.noalias() = A.middleRows(r0, rows) * B.middleCols(c0, cols);
  } else if (!g.ta && g.tb) {
    c.noalias() = A.middleRows(r0, rows) * B.transpose().middleCols(c0, cols);
  } else if (g.ta && !g.tb) {
    c.noalias() = A.transpose().middleRows(r0, rows) * B.middleCols(c0, cols);
  } else {
    c.noalias() = A.transpose().middleRows(r0, rows) * B.transpose().middleCols(c0, cols);
  }
}

template <typename T>
void Gemm(const T* a, int64_t a_rows, int64_t a_cols, bool ta, const T* b, int64_t b_rows,
          int64_t b_cols, bool tb, T* out, ThreadPool* pool) {
  const GemmArgs<T> g{a,
                      a_rows,
                      a_cols,
                      ta,
                      b,
                      b_rows,
                      b_cols,
                      tb,
                      out,
                      ta ? a_cols : a_rows,
                      ta ? a_rows : a_cols,
                      tb ? b_rows : b_cols};
  if (g.k == 0) {
    MatrixMap<T>(out, g.m, g.n).setZero();
    return;
  }
  // Block over whichever of m, n is larger; each block is at least 16 rows/cols wide.
  const bool by_rows = g.m >= g.n;
  const int64_t extent = by_rows ? g.m : g.n;
  const int64_t cost = (by_rows ? g.n : g.m) * g.k;
  const int64_t blocks = std::min<int64_t>(extent / 16 + 1, pool ? pool->NumThreads() : 1);
  auto run = [&](int64_t begin, int64_t end) {
    if (by_rows) {
      GemmBlock(g, begin, end - begin, 0, g.n);
    } else {
      GemmBlock(g, 0, g.m, begin, end - begin);
    }
  };
  if (pool == nullptr || blocks <= 1 || extent * cost < (int64_t{1} << 15)) {
    run(0, extent);
    return;
  }
  const int64_t step = (extent + blocks - 1) / blocks;
  pool->ParallelFor(blocks, cost * step, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) run(i * step, std::min(extent, (i + 1) * step));
  });
}

template <typename T>
class MatMulOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("transpose_a", &ta_));
    return ctx->GetAttr("transpose_b", &tb_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    RN_REQUIRE(a.dims() == 2 && b.dims() == 2, "MatMul: both inputs must be matrices, a is ",
               a.shape().DebugString(), ", b is ", b.shape().DebugString());
    const int64_t k_a = a.dim_size(ta_ ? 0 : 1), k_b = b.dim_size(tb_ ? 1 : 0);
    RN_REQUIRE(k_a == k_b, "MatMul: inner dimensions differ, a is ", a.shape().DebugString(),
               ta_ ? " (transposed)" : "", ", b is ", b.shape().DebugString(),
               tb_ ? " (transposed)" : "");
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(
        0, TensorShape{a.dim_size(ta_ ? 1 : 0), b.dim_size(tb_ ? 0 : 1)}, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    Gemm<T>(a.data<T>(), a.dim_size(0), a.dim_size(1), ta_, b.data<T>(), b.dim_size(0),
            b.dim_size(1), tb_, out->data<T>(), ctx->thread_pool());
    return absl::OkStatus();
  }

 private:
  bool ta_ = false, tb_ = false;
};

template <typename T, bool kBroadcast>
class BatchMatMulOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("adj_x", &adj_x_));
    return ctx->GetAttr("adj_y", &adj_y_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    RN_REQUIRE(x.dims() >= 2 && y.dims() >= 2, "BatchMatMul: inputs must have rank >= 2, x is ",
               x.shape().DebugString(), ", y is ", y.shape().DebugString());
    const int xr = x.dims(), yr = y.dims();
    const int64_t xm = x.dim_size(xr - 2), xk = x.dim_size(xr - 1);
    const int64_t ym = y.dim_size(yr - 2), yk = y.dim_size(yr - 1);
    RN_REQUIRE((adj_x_ ? xm : xk) == (adj_y_ ? yk : ym),
               "BatchMatMul: inner dimensions differ, x is ", x.shape().DebugString(), ", y is ",
               y.shape().DebugString());
    TensorShape xb(x.shape().dim_sizes().subspan(0, xr - 2));
    TensorShape yb(y.shape().dim_sizes().subspan(0, yr - 2));
    if (!kBroadcast) {
      RN_REQUIRE(xb == yb, "BatchMatMul: batch dims differ, x is ", x.shape().DebugString(),
                 ", y is ", y.shape().DebugString());
    }
    ASSIGN_OR_RETURN(BroadcastPlan plan, MakeBroadcastPlan(xb, yb));
    TensorShape out_shape = plan.out_shape;
    const int64_t m = adj_x_ ? xk : xm, n = adj_y_ ? ym : yk;
    out_shape.AddDim(m);
    out_shape.AddDim(n);
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, out_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    const int64_t batches = plan.out_shape.num_elements();
    // Matrix offsets of x and y for every output batch (broadcast batch dims repeat).
    std::vector<int64_t> x_index(batches), y_index(batches);
    const int64_t inner = plan.dims.back();
    ForEachBroadcastRow(plan, 0, batches / inner, [&](int64_t row, int64_t xo, int64_t yo) {
      for (int64_t i = 0; i < inner; ++i) {
        x_index[row * inner + i] = xo + i * plan.x_strides.back();
        y_index[row * inner + i] = yo + i * plan.y_strides.back();
      }
    });
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    T* op = out->data<T>();
    ctx->thread_pool()->ParallelFor(
        batches, m * n * std::max<int64_t>(xk, 1), [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            Gemm<T>(xp + x_index[i] * xm * xk, xm, xk, adj_x_, yp + y_index[i] * ym * yk, ym, yk,
                    adj_y_, op + i * m * n, nullptr);
          }
        });
    return absl::OkStatus();
  }

 private:
  bool adj_x_ = false, adj_y_ = false;
};

template <typename T>
using BatchMatMulV1Op = BatchMatMulOp<T, false>;
template <typename T>
using BatchMatMulV2Op = BatchMatMulOp<T, true>;

REGISTER_KERNEL_FOR_TYPES("MatMul", kCpu, "T", MatMulOp, float, double, int32_t, int64_t);
REGISTER_KERNEL_FOR_TYPES("BatchMatMul", kCpu, "T", BatchMatMulV1Op, float, double, int32_t,
                          int64_t);
REGISTER_KERNEL_FOR_TYPES("BatchMatMulV2", kCpu, "T", BatchMatMulV2Op, float, double, int32_t,
                          int64_t);

}  // namespace
}  // namespace runnel
