// The softmax cross-entropy losses and their backprop on the GPU (float32). A sparse label
// outside [0, classes) gives NaN there, as in TensorFlow's GPU kernel (the CPU kernel
// reports it: checking would copy the labels to the host every step).
#include "kernels/util/gpu_ops.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

template <typename Index>
class XentGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& logits = ctx->input(0);
    const Tensor& labels = ctx->input(1);
    constexpr bool kSparse = !std::is_same_v<Index, float>;
    RETURN_IF_ERROR(CheckCrossEntropy(logits, labels, kSparse));
    const int64_t batch = logits.dim_size(0), classes = logits.dim_size(1);
    Tensor *loss, *backprop;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{batch}, &loss));
    RETURN_IF_ERROR(ctx->allocate_output(1, logits.shape(), &backprop));
    cudaError_t error;
    if constexpr (kSparse) {
      error = gpu::SparseSoftmaxCrossEntropy(logits.data<float>(), labels.data<Index>(),
                                             loss->data<float>(), backprop->data<float>(), batch,
                                             classes, gpu->compute);
    } else {
      error =
          gpu::SoftmaxCrossEntropy(logits.data<float>(), labels.data<float>(), loss->data<float>(),
                                   backprop->data<float>(), batch, classes, gpu->compute);
    }
    return CudaStatus(error, "the cross-entropy GPU kernel");
  }
};

REGISTER_GPU_FLOAT("SoftmaxCrossEntropyWithLogits", XentGpuOp<float>);
REGISTER_KERNEL(KernelDefBuilder("SparseSoftmaxCrossEntropyWithLogits")
                    .Device(kGpu)
                    .TypeConstraint<float>("T")
                    .TypeConstraint<int32_t>("Tlabels"),
                XentGpuOp<int32_t>);
REGISTER_KERNEL(KernelDefBuilder("SparseSoftmaxCrossEntropyWithLogits")
                    .Device(kGpu)
                    .TypeConstraint<float>("T")
                    .TypeConstraint<int64_t>("Tlabels"),
                XentGpuOp<int64_t>);

}  // namespace
}  // namespace runnel
