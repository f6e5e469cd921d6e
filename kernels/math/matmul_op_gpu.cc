// MatMul and BatchMatMul(V2) on the GPU: cuBLAS SGEMM on the device's compute stream (strict
// float32, no TF32), tested against the CPU kernel in tests/gpu/.
#include "kernels/util/gpu_ops.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

class MatMulGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("transpose_a", &ta_));
    return ctx->GetAttr("transpose_b", &tb_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    RN_REQUIRE(a.dims() == 2 && b.dims() == 2, "MatMul: both inputs must be matrices, a is ",
               a.shape().DebugString(), ", b is ", b.shape().DebugString());
    const int64_t m = a.dim_size(ta_ ? 1 : 0), k = a.dim_size(ta_ ? 0 : 1);
    const int64_t n = b.dim_size(tb_ ? 0 : 1);
    RN_REQUIRE(k == b.dim_size(tb_ ? 1 : 0), "MatMul: inner dimensions differ, a is ",
               a.shape().DebugString(), ta_ ? " (transposed)" : "", ", b is ",
               b.shape().DebugString(), tb_ ? " (transposed)" : "");
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{m, n}, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    if (k == 0) {
      return CudaStatus(cudaMemsetAsync(out->raw_data(), 0, out->TotalBytes(), gpu->compute),
                        "cudaMemsetAsync");
    }
    // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets B first.
    const float one = 1, zero = 0;
    RN_CUBLAS(cublasSgemm(
        gpu->cublas, tb_ ? CUBLAS_OP_T : CUBLAS_OP_N, ta_ ? CUBLAS_OP_T : CUBLAS_OP_N,
        static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &one, b.data<float>(),
        static_cast<int>(b.dim_size(1)), a.data<float>(), static_cast<int>(a.dim_size(1)), &zero,
        out->data<float>(), static_cast<int>(n)));
    return absl::OkStatus();
  }

 private:
  bool ta_ = false, tb_ = false;
};

// The stride between consecutive entries of `index` when it is 0, 1, 2, ... or all 0
// (matrices one after the other, or one repeated); -1 otherwise.
int64_t Stride(const std::vector<int64_t>& index) {
  for (int64_t s : {int64_t{1}, int64_t{0}}) {
    bool regular = true;
    for (size_t b = 0; b < index.size() && regular; ++b)
      regular = index[b] == s * static_cast<int64_t>(b);
    if (regular) return s;
  }
  return -1;
}

template <bool kBroadcast>
class BatchMatMulGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("adj_x", &adj_x_));
    return ctx->GetAttr("adj_y", &adj_y_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    ASSIGN_OR_RETURN(BatchMatMulPlan plan,
                     PlanBatchMatMul(x.shape(), y.shape(), adj_x_, adj_y_, kBroadcast));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, plan.out_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    const int64_t m = plan.m, n = plan.n, k = plan.k;
    if (k == 0) {
      return CudaStatus(cudaMemsetAsync(out->raw_data(), 0, out->TotalBytes(), gpu->compute),
                        "cudaMemsetAsync");
    }
    const int64_t x_matrix = x.dim_size(x.dims() - 2) * x.dim_size(x.dims() - 1);
    const int64_t y_matrix = y.dim_size(y.dims() - 2) * y.dim_size(y.dims() - 1);
    const int lda = static_cast<int>(y.dim_size(y.dims() - 1));
    const int ldb = static_cast<int>(x.dim_size(x.dims() - 1));
    const cublasOperation_t op_y = adj_y_ ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasOperation_t op_x = adj_x_ ? CUBLAS_OP_T : CUBLAS_OP_N;
    const float one = 1, zero = 0;
    const int64_t batches = static_cast<int64_t>(plan.x_index.size());
    const int64_t sx = Stride(plan.x_index), sy = Stride(plan.y_index);
    // As MatMul: column-major C^T = op(Y)^T op(X)^T per batch.
    if (sx >= 0 && sy >= 0) {
      RN_CUBLAS(cublasSgemmStridedBatched(
          gpu->cublas, op_y, op_x, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k),
          &one, y.data<float>(), lda, sy * y_matrix, x.data<float>(), ldb, sx * x_matrix, &zero,
          out->data<float>(), static_cast<int>(n), m * n, static_cast<int>(batches)));
      return absl::OkStatus();
    }
    for (int64_t b = 0; b < batches; ++b) {  // broadcast both ways: one product each
      RN_CUBLAS(cublasSgemm(gpu->cublas, op_y, op_x, static_cast<int>(n), static_cast<int>(m),
                            static_cast<int>(k), &one, y.data<float>() + plan.y_index[b] * y_matrix,
                            lda, x.data<float>() + plan.x_index[b] * x_matrix, ldb, &zero,
                            out->data<float>() + b * m * n, static_cast<int>(n)));
    }
    return absl::OkStatus();
  }

 private:
  bool adj_x_ = false, adj_y_ = false;
};

REGISTER_GPU_FLOAT("MatMul", MatMulGpuOp);
REGISTER_GPU_FLOAT("BatchMatMul", BatchMatMulGpuOp<false>);
REGISTER_GPU_FLOAT("BatchMatMulV2", BatchMatMulGpuOp<true>);

}  // namespace
}  // namespace runnel
