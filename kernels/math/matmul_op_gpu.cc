// MatMul on the GPU: cuBLAS SGEMM on the device's compute stream (strict float32, no
// TF32), tested against the CPU kernel in tests/gpu/.
#include "kernels/util/gpu_ops.h"

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

REGISTER_GPU_FLOAT("MatMul", MatMulGpuOp);

}  // namespace
}  // namespace runnel
