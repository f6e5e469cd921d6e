// MatMul, _FusedMatMul and BatchMatMul(V2) on the GPU: cuBLAS (cuBLASLt with the bias and Relu
// as its epilogue for the fused product) on the device's compute stream, float32 strictly (no
// TF32), MatMul and BatchMatMul also in half and bfloat16 (float accumulation); tested
// against the CPU kernels in tests/gpu/.
#include "kernels/util/fused_epilogue.h"
#include "kernels/util/gpu_ops.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

// The matrix products' element types: float, and half and bfloat16, which cuBLAS multiplies
// with tensor cores and accumulates in float.
const std::vector<DataType> kProductTypes = {DT_FLOAT, DT_HALF, DT_BFLOAT16};

cudaDataType_t CudaTypeOf(DataType dtype) {
  switch (dtype) {
    case DT_HALF:
      return CUDA_R_16F;
    case DT_BFLOAT16:
      return CUDA_R_16BF;
    default:
      return CUDA_R_32F;
  }
}

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
    ASSIGN_OR_RETURN(MatMulPlan plan, PlanMatMul(a.shape(), b.shape(), ta_, tb_));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{plan.m, plan.n}, &out));
    return Product(gpu, a, b, plan, out);
  }

 protected:
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T: cuBLAS gets B first.
  absl::Status Product(GpuDeviceContext* gpu, const Tensor& a, const Tensor& b, const MatMulPlan& p,
                       Tensor* out) const {
    if (out->NumElements() == 0) return absl::OkStatus();
    if (p.k == 0) {
      return CudaStatus(cudaMemsetAsync(out->raw_data(), 0, out->TotalBytes(), gpu->compute),
                        "cudaMemsetAsync");
    }
    const float one = 1, zero = 0;  // half and bfloat16 accumulate in float too
    const cudaDataType_t type = CudaTypeOf(out->dtype());
    RN_CUBLAS(cublasGemmEx(gpu->cublas, tb_ ? CUBLAS_OP_T : CUBLAS_OP_N,
                           ta_ ? CUBLAS_OP_T : CUBLAS_OP_N, static_cast<int>(p.n),
                           static_cast<int>(p.m), static_cast<int>(p.k), &one, b.raw_data(), type,
                           static_cast<int>(b.dim_size(1)), a.raw_data(), type,
                           static_cast<int>(a.dim_size(1)), &zero, out->raw_data(), type,
                           static_cast<int>(p.n), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    return absl::OkStatus();
  }

  bool ta_ = false, tb_ = false;
};

// cuBLASLt handles, destroyed with the object.
struct LtDescriptors {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulPreference_t preference = nullptr;
  ~LtDescriptors() {
    if (op) cublasLtMatmulDescDestroy(op);
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (preference) cublasLtMatmulPreferenceDestroy(preference);
  }
};

// _FusedMatMul (MatMul, BiasAdd, optionally Relu or Relu6): one cuBLASLt call with the bias
// (and Relu) as its epilogue; Relu6 after it, as its own kernel.
class FusedMatMulGpuOp : public MatMulGpuOp {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(MatMulGpuOp::Init(ctx));
    return epilogue_.Init(ctx);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& a = ctx->input(0);
    const Tensor& b = ctx->input(1);
    ASSIGN_OR_RETURN(MatMulPlan p, PlanMatMul(a.shape(), b.shape(), ta_, tb_));
    ASSIGN_OR_RETURN(const float* bias, epilogue_.Bias<float>(ctx, 2, p.n));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{p.m, p.n}, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    const bool relu = epilogue_.activation() == Activation::kRelu;
    if (p.k == 0 || !Lt(ctx, gpu, a, b, p, bias, relu, out).ok()) {
      // The product, then the bias and Relu as kernels of their own.
      RETURN_IF_ERROR(Product(gpu, a, b, p, out));
      RETURN_IF_ERROR(CudaStatus(gpu::BiasAdd(out->data<float>(), bias, out->data<float>(),
                                              out->NumElements(), p.n, 1, gpu->compute),
                                 "the BiasAdd GPU kernel"));
      if (relu) return Activate(gpu::UnaryOp::kRelu, gpu, out);
    }
    if (epilogue_.activation() == Activation::kRelu6)
      return Activate(gpu::UnaryOp::kRelu6, gpu, out);
    return absl::OkStatus();
  }

 private:
  static absl::Status Activate(gpu::UnaryOp op, GpuDeviceContext* gpu, Tensor* out) {
    return CudaStatus(
        gpu::Unary(op, out->data<float>(), out->data<float>(), out->NumElements(), gpu->compute),
        "the activation GPU kernel");
  }

  absl::Status Lt(OpKernelContext* ctx, GpuDeviceContext* gpu, const Tensor& a, const Tensor& b,
                  const MatMulPlan& p, const float* bias, bool relu, Tensor* out) const {
    LtDescriptors d;
    RN_CUBLAS(cublasLtMatmulDescCreate(&d.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t op_a = tb_ ? CUBLAS_OP_T : CUBLAS_OP_N;  // cuBLAS's A is our b
    const cublasOperation_t op_b = ta_ ? CUBLAS_OP_T : CUBLAS_OP_N;
    const cublasLtEpilogue_t epilogue = relu ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_BIAS;
    RN_CUBLAS(
        cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSA, &op_a, sizeof(op_a)));
    RN_CUBLAS(
        cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_TRANSB, &op_b, sizeof(op_b)));
    RN_CUBLAS(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_EPILOGUE, &epilogue,
                                             sizeof(epilogue)));
    RN_CUBLAS(cublasLtMatmulDescSetAttribute(d.op, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias,
                                             sizeof(bias)));
    // Column-major views of the row-major matrices.
    RN_CUBLAS(
        cublasLtMatrixLayoutCreate(&d.a, CUDA_R_32F, b.dim_size(1), b.dim_size(0), b.dim_size(1)));
    RN_CUBLAS(
        cublasLtMatrixLayoutCreate(&d.b, CUDA_R_32F, a.dim_size(1), a.dim_size(0), a.dim_size(1)));
    RN_CUBLAS(cublasLtMatrixLayoutCreate(&d.c, CUDA_R_32F, p.n, p.m, p.n));
    constexpr size_t kWorkspace = size_t{4} << 20;
    RN_CUBLAS(cublasLtMatmulPreferenceCreate(&d.preference));
    RN_CUBLAS(cublasLtMatmulPreferenceSetAttribute(
        d.preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &kWorkspace, sizeof(kWorkspace)));
    cublasLtMatmulHeuristicResult_t heuristic;
    int found = 0;
    RN_CUBLAS(cublasLtMatmulAlgoGetHeuristic(gpu->cublas_lt, d.op, d.a, d.b, d.c, d.c, d.preference,
                                             1, &heuristic, &found));
    RN_REQUIRE(found > 0, "cuBLASLt has no algorithm for this product");
    Tensor workspace(DT_UINT8, TensorShape{static_cast<int64_t>(kWorkspace)}, ctx->allocator());
    const float one = 1, zero = 0;
    RN_CUBLAS(cublasLtMatmul(gpu->cublas_lt, d.op, &one, b.data<float>(), d.a, a.data<float>(), d.b,
                             &zero, out->data<float>(), d.c, out->data<float>(), d.c,
                             &heuristic.algo, workspace.raw_data(), kWorkspace, gpu->compute));
    return absl::OkStatus();
  }

  FusedEpilogue epilogue_;
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
    const cudaDataType_t type = CudaTypeOf(out->dtype());
    const int64_t batches = static_cast<int64_t>(plan.x_index.size());
    const int64_t sx = Stride(plan.x_index), sy = Stride(plan.y_index);
    // As MatMul: column-major C^T = op(Y)^T op(X)^T per batch.
    if (sx >= 0 && sy >= 0) {
      RN_CUBLAS(cublasGemmStridedBatchedEx(
          gpu->cublas, op_y, op_x, static_cast<int>(n), static_cast<int>(m), static_cast<int>(k),
          &one, y.raw_data(), type, lda, sy * y_matrix, x.raw_data(), type, ldb, sx * x_matrix,
          &zero, out->raw_data(), type, static_cast<int>(n), m * n, static_cast<int>(batches),
          CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
      return absl::OkStatus();
    }
    const int64_t size = DataTypeSize(out->dtype());
    const char* xp = static_cast<const char*>(x.raw_data());
    const char* yp = static_cast<const char*>(y.raw_data());
    char* op = static_cast<char*>(out->raw_data());
    for (int64_t b = 0; b < batches; ++b) {  // broadcast both ways: one product each
      RN_CUBLAS(cublasGemmEx(gpu->cublas, op_y, op_x, static_cast<int>(n), static_cast<int>(m),
                             static_cast<int>(k), &one, yp + plan.y_index[b] * y_matrix * size,
                             type, lda, xp + plan.x_index[b] * x_matrix * size, type, ldb, &zero,
                             op + b * m * n * size, type, static_cast<int>(n), CUBLAS_COMPUTE_32F,
                             CUBLAS_GEMM_DEFAULT));
    }
    return absl::OkStatus();
  }

 private:
  bool adj_x_ = false, adj_y_ = false;
};

REGISTER_KERNEL(KernelDefBuilder("MatMul").Device(kGpu).TypeConstraint("T", kProductTypes),
                MatMulGpuOp);
REGISTER_GPU_FLOAT("_FusedMatMul", FusedMatMulGpuOp);
REGISTER_KERNEL(KernelDefBuilder("BatchMatMul").Device(kGpu).TypeConstraint("T", kProductTypes),
                BatchMatMulGpuOp<false>);
REGISTER_KERNEL(KernelDefBuilder("BatchMatMulV2").Device(kGpu).TypeConstraint("T", kProductTypes),
                BatchMatMulGpuOp<true>);

}  // namespace
}  // namespace runnel
