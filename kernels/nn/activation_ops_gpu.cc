// The activations (Relu, Relu6, LeakyRelu, Elu, Selu, Softplus) and their gradients on the
// GPU (float32), tested against the CPU kernels in tests/gpu/.
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

// The activations' gradients: (gradients, the forward op's features or outputs), and
// LeakyRelu's alpha.
template <gpu::GradOp kOp, int kGrad = 0>
class ActivationGradGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    if (ctx->HasAttr("alpha")) RETURN_IF_ERROR(ctx->GetAttr("alpha", &alpha_));
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& dy = ctx->input(kGrad);
    const Tensor& value = ctx->input(1 - kGrad);
    RN_REQUIRE(dy.shape() == value.shape(), "the gradient ", dy.shape().DebugString(),
               " and the activation's ", value.shape().DebugString(), " differ in shape");
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({kGrad}, 0, dy.shape(), &out));
    return CudaStatus(
        gpu::ActivationGrad(kOp, dy.data<float>(), value.data<float>(), out->data<float>(),
                            dy.NumElements(), gpu->compute, alpha_),
        "the activation gradient GPU kernel");
  }

 private:
  float alpha_ = 0.2f;
};

class LeakyReluGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return ctx->GetAttr("alpha", &alpha_); }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &out));
    return CudaStatus(
        gpu::LeakyRelu(x.data<float>(), out->data<float>(), alpha_, x.NumElements(), gpu->compute),
        "the LeakyRelu GPU kernel");
  }

 private:
  float alpha_ = 0.2f;
};

using ReluGradGpuOp = ActivationGradGpuOp<gpu::GradOp::kRelu>;
using Relu6GradGpuOp = ActivationGradGpuOp<gpu::GradOp::kRelu6>;
using LeakyReluGradGpuOp = ActivationGradGpuOp<gpu::GradOp::kLeakyRelu>;
using EluGradGpuOp = ActivationGradGpuOp<gpu::GradOp::kElu>;
using SeluGradGpuOp = ActivationGradGpuOp<gpu::GradOp::kSelu>;
using SoftplusGradGpuOp = ActivationGradGpuOp<gpu::GradOp::kSoftplus>;
REGISTER_GPU_FLOAT("Relu", UnaryGpuOp<gpu::UnaryOp::kRelu>);
REGISTER_GPU_FLOAT("Relu6", UnaryGpuOp<gpu::UnaryOp::kRelu6>);
REGISTER_GPU_FLOAT("Elu", UnaryGpuOp<gpu::UnaryOp::kElu>);
REGISTER_GPU_FLOAT("Selu", UnaryGpuOp<gpu::UnaryOp::kSelu>);
REGISTER_GPU_FLOAT("Softplus", UnaryGpuOp<gpu::UnaryOp::kSoftplus>);
REGISTER_GPU_FLOAT("LeakyRelu", LeakyReluGpuOp);
REGISTER_GPU_FLOAT("ReluGrad", ReluGradGpuOp);
REGISTER_GPU_FLOAT("Relu6Grad", Relu6GradGpuOp);
REGISTER_GPU_FLOAT("LeakyReluGrad", LeakyReluGradGpuOp);
REGISTER_GPU_FLOAT("EluGrad", EluGradGpuOp);
REGISTER_GPU_FLOAT("SeluGrad", SeluGradGpuOp);
REGISTER_GPU_FLOAT("SoftplusGrad", SoftplusGradGpuOp);

}  // namespace
}  // namespace runnel
