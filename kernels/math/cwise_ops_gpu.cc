// Elementwise math on the GPU (float32): broadcasting binary ops and unary functions,
// launched from kernels/util/gpu_elementwise.cu, tested against the CPU kernels in tests/gpu/.
#include "kernels/util/broadcast.h"
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

template <gpu::BinaryOp kOp>
class BinaryGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    ASSIGN_OR_RETURN(BroadcastPlan plan, MakeBroadcastPlan(x.shape(), y.shape()));
    const int rank = static_cast<int>(plan.dims.size());
    RN_REQUIRE(rank <= gpu::kMaxBroadcastDims, "broadcasting ", x.shape().DebugString(), " with ",
               y.shape().DebugString(), " needs ", rank, " dims; the GPU kernel takes ",
               gpu::kMaxBroadcastDims);
    gpu::Broadcast b;
    b.rank = rank;
    for (int d = 0; d < rank; ++d) {
      b.dims[d] = plan.dims[d];
      b.x_strides[d] = plan.x_strides[d];
      b.y_strides[d] = plan.y_strides[d];
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0, 1}, 0, plan.out_shape, &out));
    return CudaStatus(gpu::Binary(kOp, b, x.data<float>(), y.data<float>(), out->data<float>(),
                                  out->NumElements(), gpu->compute),
                      "the binary GPU kernel");
  }
};

REGISTER_GPU_FLOAT("Add", BinaryGpuOp<gpu::BinaryOp::kAdd>);
REGISTER_GPU_FLOAT("AddV2", BinaryGpuOp<gpu::BinaryOp::kAdd>);
REGISTER_GPU_FLOAT("Sub", BinaryGpuOp<gpu::BinaryOp::kSub>);
REGISTER_GPU_FLOAT("Mul", BinaryGpuOp<gpu::BinaryOp::kMul>);
REGISTER_GPU_FLOAT("RealDiv", BinaryGpuOp<gpu::BinaryOp::kDiv>);
REGISTER_GPU_FLOAT("Maximum", BinaryGpuOp<gpu::BinaryOp::kMaximum>);
REGISTER_GPU_FLOAT("Minimum", BinaryGpuOp<gpu::BinaryOp::kMinimum>);
REGISTER_GPU_FLOAT("SquaredDifference", BinaryGpuOp<gpu::BinaryOp::kSquaredDifference>);
REGISTER_GPU_FLOAT("Neg", UnaryGpuOp<gpu::UnaryOp::kNeg>);
REGISTER_GPU_FLOAT("Square", UnaryGpuOp<gpu::UnaryOp::kSquare>);
REGISTER_GPU_FLOAT("Exp", UnaryGpuOp<gpu::UnaryOp::kExp>);
REGISTER_GPU_FLOAT("Log", UnaryGpuOp<gpu::UnaryOp::kLog>);
REGISTER_GPU_FLOAT("Tanh", UnaryGpuOp<gpu::UnaryOp::kTanh>);
REGISTER_GPU_FLOAT("Sigmoid", UnaryGpuOp<gpu::UnaryOp::kSigmoid>);
REGISTER_GPU_FLOAT("Sqrt", UnaryGpuOp<gpu::UnaryOp::kSqrt>);
REGISTER_GPU_FLOAT("Rsqrt", UnaryGpuOp<gpu::UnaryOp::kRsqrt>);

}  // namespace
}  // namespace runnel
