// BiasAdd and BiasAddGrad on the GPU (float32, NHWC and NCHW), tested against the CPU
// kernels in tests/gpu/.
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

// The [outer, channels, inner] view of a value in the kernel's data_format (inner is 1
// for NHWC).
struct ChannelView {
  int64_t outer, channels, inner;
};

class ChannelKernel : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    if (ctx->HasAttr("data_format")) RETURN_IF_ERROR(ctx->GetAttr("data_format", &format_));
    return absl::OkStatus();
  }

 protected:
  absl::StatusOr<ChannelView> ChannelsOf(const Tensor& x) const {
    RN_REQUIRE(x.dims() >= 2, "value must have rank >= 2, got shape ", x.shape().DebugString());
    const int channel_dim = format_ == "NCHW" ? 1 : x.dims() - 1;
    ChannelView v{1, x.dim_size(channel_dim), 1};
    for (int i = 0; i < channel_dim; ++i) v.outer *= x.dim_size(i);
    for (int i = channel_dim + 1; i < x.dims(); ++i) v.inner *= x.dim_size(i);
    return v;
  }
  std::string format_ = "NHWC";
};

class BiasAddGpuOp : public ChannelKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    ASSIGN_OR_RETURN(ChannelView v, ChannelsOf(x));
    RN_REQUIRE(bias.dims() == 1, "bias must be a vector, got shape ", bias.shape().DebugString());
    RN_REQUIRE(bias.dim_size(0) == v.channels, "bias has ", bias.dim_size(0),
               " elements but value has ", v.channels, " channels (", format_, " shape ",
               x.shape().DebugString(), ")");
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &out));
    return CudaStatus(gpu::BiasAdd(x.data<float>(), bias.data<float>(), out->data<float>(),
                                   x.NumElements(), v.channels, v.inner, gpu->compute),
                      "the BiasAdd GPU kernel");
  }
};

class BiasAddGradGpuOp : public ChannelKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& dy = ctx->input(0);
    ASSIGN_OR_RETURN(ChannelView v, ChannelsOf(dy));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{v.channels}, &out));
    return CudaStatus(gpu::BiasAddGrad(dy.data<float>(), out->data<float>(), v.outer, v.channels,
                                       v.inner, gpu->compute),
                      "the BiasAddGrad GPU kernel");
  }
};

REGISTER_GPU_FLOAT("BiasAdd", BiasAddGpuOp);
REGISTER_GPU_FLOAT("BiasAddV1", BiasAddGpuOp);
REGISTER_GPU_FLOAT("BiasAddGrad", BiasAddGradGpuOp);

}  // namespace
}  // namespace runnel
