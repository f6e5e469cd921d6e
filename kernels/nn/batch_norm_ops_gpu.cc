// FusedBatchNorm(V2, V3) and their gradients on the GPU (float32, NHWC or NCHW): the CPU
// kernels' arithmetic (per-channel sums in double, reserve spaces holding the batch's
// mean and variance), a block per channel for the statistics, then one elementwise pass.
#include "kernels/util/gpu_ops.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

absl::StatusOr<gpu::ChannelLayout> LayoutOf(const Tensor& x, bool nchw) {
  RN_REQUIRE(x.dims() == 4, "x must be 4-D, got shape ", x.shape().DebugString());
  gpu::ChannelLayout l;
  l.channels = x.dim_size(nchw ? 1 : 3);
  l.inner = nchw ? x.dim_size(2) * x.dim_size(3) : 1;
  l.rows = x.NumElements() / std::max<int64_t>(l.channels, 1);
  return l;
}

// Output i, a vector of n floats.
absl::StatusOr<float*> Vector(OpKernelContext* ctx, int i, int64_t n) {
  Tensor* out;
  RETURN_IF_ERROR(ctx->allocate_output(i, TensorShape{n}, &out));
  return out->data<float>();
}

class FusedBatchNormGpuOp : public OpKernel, BatchNormAttrs {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return Read(ctx); }

  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(gpu::ChannelLayout l, LayoutOf(x, nchw));
    const int64_t channels = l.channels;
    RETURN_IF_ERROR(CheckForwardArgs(ctx, channels, x.dtype()));
    RN_REQUIRE(!training || l.rows > 0,
               "x has no elements to take the batch's statistics of, shape ",
               x.shape().DebugString());
    gpu::BatchNormArgs a;
    a.layout = l;
    a.x = x.data<float>();
    a.scale = ctx->input(1).data<float>();
    a.offset = ctx->input(2).data<float>();
    a.given_mean = ctx->input(3).data<float>();
    a.given_variance = ctx->input(4).data<float>();
    a.epsilon = epsilon;
    a.factor = factor;
    a.training = training;
    a.blend = training && factor != 1.0f && ctx->input(3).NumElements() == channels;
    Tensor* y;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &y));
    a.y = y->data<float>();
    ASSIGN_OR_RETURN(a.batch_mean, Vector(ctx, 1, channels));
    ASSIGN_OR_RETURN(a.batch_variance, Vector(ctx, 2, channels));
    ASSIGN_OR_RETURN(a.mean, Vector(ctx, 3, channels));
    ASSIGN_OR_RETURN(a.variance, Vector(ctx, 4, channels));
    Tensor coefficients(DT_FLOAT, TensorShape{2 * std::max<int64_t>(channels, 1)},
                        ctx->allocator());
    a.coefficients = coefficients.data<float>();
    RETURN_IF_ERROR(CudaStatus(gpu::BatchNorm(a, gpu->compute), "the FusedBatchNorm GPU kernel"));
    if (ctx->num_outputs() == 6) {  // V3's reserve_space_3: unused, 0
      Tensor* unused;
      RETURN_IF_ERROR(ctx->allocate_output(5, TensorShape{}, &unused));
      RN_CUDA(cudaMemsetAsync(unused->raw_data(), 0, sizeof(float), gpu->compute));
    }
    return absl::OkStatus();
  }
};

class FusedBatchNormGradGpuOp : public OpKernel, BatchNormAttrs {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return Read(ctx); }

  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& dy = ctx->input(0);
    const Tensor& x = ctx->input(1);
    RN_REQUIRE(dy.shape() == x.shape(), "y_backprop has shape ", dy.shape().DebugString(),
               " but x has shape ", x.shape().DebugString());
    ASSIGN_OR_RETURN(gpu::ChannelLayout l, LayoutOf(x, nchw));
    const int64_t channels = l.channels;
    RETURN_IF_ERROR(CheckGradArgs(ctx, channels, x.dtype()));
    gpu::BatchNormGradArgs a;
    a.layout = l;
    a.dy = dy.data<float>();
    a.x = x.data<float>();
    a.scale = ctx->input(2).data<float>();
    a.mean = ctx->input(3).data<float>();
    a.variance = ctx->input(4).data<float>();
    a.epsilon = epsilon;
    a.training = training;
    Tensor* dx;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &dx));
    a.dx = dx->data<float>();
    ASSIGN_OR_RETURN(a.dscale, Vector(ctx, 1, channels));
    ASSIGN_OR_RETURN(a.doffset, Vector(ctx, 2, channels));
    RETURN_IF_ERROR(Vector(ctx, 3, 0).status());
    RETURN_IF_ERROR(Vector(ctx, 4, 0).status());
    Tensor coefficients(DT_FLOAT, TensorShape{3 * std::max<int64_t>(channels, 1)},
                        ctx->allocator());
    a.coefficients = coefficients.data<float>();
    return CudaStatus(gpu::BatchNormGrad(a, gpu->compute), "the FusedBatchNormGrad GPU kernel");
  }
};

// The per-channel inputs and outputs are float like x (Runnel's kernels need T = U).
const bool kRegistered = [] {
  for (const char* op : {"FusedBatchNorm", "FusedBatchNormV2", "FusedBatchNormV3"}) {
    KernelRegistry::Global()->Register(
        KernelDefBuilder(op).Device(kGpu).TypeConstraint<float>("T").def(),
        &MakeKernel<FusedBatchNormGpuOp>);
  }
  for (const char* op : {"FusedBatchNormGrad", "FusedBatchNormGradV2", "FusedBatchNormGradV3"}) {
    KernelRegistry::Global()->Register(
        KernelDefBuilder(op).Device(kGpu).TypeConstraint<float>("T").def(),
        &MakeKernel<FusedBatchNormGradGpuOp>);
  }
  return true;
}();

}  // namespace
}  // namespace runnel
