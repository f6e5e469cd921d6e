// MaxPool, AvgPool and their gradients on the GPU (float32, NHWC or NCHW, any padding),
// one thread per output element: the CPU kernels' windows and tie rule.
#include "kernels/util/conv_util.h"
#include "kernels/util/gpu_ops.h"

namespace runnel {
namespace {

// The pooling geometry of `w` over an input of `shape` in w's data format.
absl::StatusOr<gpu::PoolGeometry> Geometry(const Window2D& w, const TensorShape& shape) {
  RN_REQUIRE(shape.dims() == 4, "input must be 4-D, got shape ", shape.DebugString());
  ASSIGN_OR_RETURN(PoolShape s, ResolvePool(w, ToNhwc(shape, w.nchw)));
  gpu::PoolGeometry g;
  g.nchw = w.nchw;
  g.batch = s.batch;
  g.channels = s.channels;
  g.in_h = s.rows.input;
  g.in_w = s.cols.input;
  g.out_h = s.rows.output;
  g.out_w = s.cols.output;
  g.window_h = s.rows.window;
  g.window_w = s.cols.window;
  g.stride_h = s.rows.stride;
  g.stride_w = s.cols.stride;
  g.pad_top = s.rows.pad_before;
  g.pad_left = s.cols.pad_before;
  return g;
}

TensorShape OutputShape(const gpu::PoolGeometry& g) {
  return g.nchw ? TensorShape{g.batch, g.channels, g.out_h, g.out_w}
                : TensorShape{g.batch, g.out_h, g.out_w, g.channels};
}

template <bool kMax>
class PoolGpuOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(gpu::PoolGeometry g, Geometry(window_, x.shape()));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, OutputShape(g), &out));
    return CudaStatus(kMax ? gpu::MaxPool(g, x.data<float>(), out->data<float>(), gpu->compute)
                           : gpu::AvgPool(g, x.data<float>(), out->data<float>(), gpu->compute),
                      "the pooling GPU kernel");
  }
};

class MaxPoolGradGpuOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    const Tensor& dy = ctx->input(2);
    ASSIGN_OR_RETURN(gpu::PoolGeometry g, Geometry(window_, x.shape()));
    RN_REQUIRE(dy.shape() == OutputShape(g), "grad has shape ", dy.shape().DebugString(),
               " but the pooling's output has ", OutputShape(g).DebugString());
    Tensor* dx;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &dx));
    return CudaStatus(
        gpu::MaxPoolGrad(g, x.data<float>(), dy.data<float>(), dx->data<float>(), gpu->compute),
        "the MaxPoolGrad GPU kernel");
  }
};

class AvgPoolGradGpuOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    ASSIGN_OR_RETURN(TensorShape in_shape, ShapeFromInput(ctx->input(0), "orig_input_shape"));
    const Tensor& dy = ctx->input(1);
    ASSIGN_OR_RETURN(gpu::PoolGeometry g, Geometry(window_, in_shape));
    RN_REQUIRE(dy.shape() == OutputShape(g), "grad has shape ", dy.shape().DebugString(),
               " but the pooling's output has ", OutputShape(g).DebugString());
    Tensor* dx;
    RETURN_IF_ERROR(ctx->allocate_output(0, in_shape, &dx));
    return CudaStatus(gpu::AvgPoolGrad(g, dy.data<float>(), dx->data<float>(), gpu->compute),
                      "the AvgPoolGrad GPU kernel");
  }
};

REGISTER_GPU_FLOAT("MaxPool", PoolGpuOp<true>);
REGISTER_GPU_FLOAT("AvgPool", PoolGpuOp<false>);
REGISTER_GPU_FLOAT("MaxPoolGrad", MaxPoolGradGpuOp);
REGISTER_KERNEL(KernelDefBuilder("AvgPoolGrad")
                    .Device(kGpu)
                    .TypeConstraint<float>("T")
                    .HostMemory("orig_input_shape"),
                AvgPoolGradGpuOp);

}  // namespace
}  // namespace runnel
