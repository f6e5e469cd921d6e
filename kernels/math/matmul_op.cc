// MatMul and BatchMatMul(V2): shape checks around the shared GEMM (kernels/util/gemm.h).
#include "core/kernel_registry.h"
#include "kernels/util/fused_epilogue.h"
#include "kernels/util/gemm.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

template <typename T>
class MatMulOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("transpose_a", &ta_));
    return ctx->GetAttr("transpose_b", &tb_);
  }
  absl::Status Compute(OpKernelContext* ctx) override { return ComputeFused(ctx, nullptr); }
  // The product, then `epilogue` (bias input 2) when given.
  absl::Status ComputeFused(OpKernelContext* ctx, const FusedEpilogue* epilogue) {
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    ASSIGN_OR_RETURN(MatMulPlan plan, PlanMatMul(a.shape(), b.shape(), ta_, tb_));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{plan.m, plan.n}, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    Gemm(Dense(a.data<T>(), a.dim_size(0), a.dim_size(1), ta_),
         Dense(b.data<T>(), b.dim_size(0), b.dim_size(1), tb_), out->data<T>(),
         /*accumulate=*/false, ctx->thread_pool());
    return epilogue ? epilogue->Apply<T>(ctx, 2) : absl::OkStatus();
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
    ASSIGN_OR_RETURN(BatchMatMulPlan plan,
                     PlanBatchMatMul(x.shape(), y.shape(), adj_x_, adj_y_, kBroadcast));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, plan.out_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    const int64_t batches = static_cast<int64_t>(plan.x_index.size());
    const int64_t m = plan.m, n = plan.n, xk = x.dim_size(x.dims() - 1);
    const int64_t xm = x.dim_size(x.dims() - 2), ym = y.dim_size(y.dims() - 2);
    const int64_t yk = y.dim_size(y.dims() - 1);
    const std::vector<int64_t>& x_index = plan.x_index;
    const std::vector<int64_t>& y_index = plan.y_index;
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    T* op = out->data<T>();
    ctx->thread_pool()->ParallelFor(
        batches, m * n * std::max<int64_t>(xk, 1), [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            Gemm(Dense(xp + x_index[i] * xm * xk, xm, xk, adj_x_),
                 Dense(yp + y_index[i] * ym * yk, ym, yk, adj_y_), op + i * m * n,
                 /*accumulate=*/false, nullptr);
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

template <typename T>
using FusedMatMulOp = Fused<MatMulOp<T>, T>;
REGISTER_KERNEL_FOR_TYPES("_FusedMatMul", kCpu, "T", FusedMatMulOp, float);

}  // namespace
}  // namespace runnel
