// Slice and StridedSlice on the GPU: one gather of the window (begin, end, size and strides
// in host memory); StridedSliceGrad scatters the gradient back into zeros.
#include "kernels/util/gpu_ops.h"
#include "kernels/util/int_values.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

class SliceGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> begin, IntValues(ctx->input(1), "begin"));
    ASSIGN_OR_RETURN(DimVector sizes, SliceSizes(x.shape(), begin, ctx->input(2)));
    std::vector<int64_t> before(x.dims()), after(x.dims());
    for (int d = 0; d < x.dims(); ++d) {
      before[d] = -begin[d];
      after[d] = -(x.dim_size(d) - begin[d] - sizes[d]);
    }
    ASSIGN_OR_RETURN(Tensor out, PadOnGpu(x, before, after, nullptr, ctx, gpu->compute));
    ctx->set_output(0, std::move(out));
    return absl::OkStatus();
  }
};

// The strided slice as an index map over the input: element k of the (input-ranked) slice
// reads begin + k * stride along each dim.
absl::StatusOr<gpu::IndexMap> SliceMap(const TensorShape& input, const StridedSlicePlan& plan) {
  RETURN_IF_ERROR(CheckGpuRank(input.dims()));
  gpu::IndexMap map;
  map.rank = input.dims();
  const DimVector strides = DenseStrides(DimsOf(input), 1);
  for (int d = 0; d < input.dims(); ++d) {
    map.dims[d] = map.in_dims[d] = std::max<int64_t>(plan.size[d], 1);
    map.in_strides[d] = plan.stride[d] * strides[d];
    map.base += plan.begin[d] * strides[d];
  }
  return map;
}

class StridedSliceGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ReadStridedSliceMasks(AttrSlice(ctx->def()), &masks_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(
        StridedSlicePlan plan,
        PlanStridedSliceOf(x.shape(), ctx->input(1), ctx->input(2), ctx->input(3), masks_));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, plan.final_shape.ToTensorShape(), &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    ASSIGN_OR_RETURN(gpu::IndexMap map, SliceMap(x.shape(), plan));
    return CudaStatus(gpu::Gather(map, x.raw_data(), out->raw_data(), DataTypeSize(x.dtype()),
                                  out->NumElements(), gpu->compute),
                      "the StridedSlice GPU kernel");
  }

 private:
  StridedSliceMasks masks_;
};

class StridedSliceGradGpuOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ReadStridedSliceMasks(AttrSlice(ctx->def()), &masks_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    ASSIGN_OR_RETURN(StridedSliceGradPlan grad, PlanStridedSliceGrad(ctx, masks_));
    const TensorShape& shape = grad.shape;
    const StridedSlicePlan& plan = grad.slice;
    const Tensor& dy = ctx->input(4);
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    RN_CUDA(cudaMemsetAsync(out->raw_data(), 0, out->TotalBytes(), gpu->compute));
    if (dy.NumElements() == 0) return absl::OkStatus();
    ASSIGN_OR_RETURN(gpu::IndexMap map, SliceMap(shape, plan));
    return CudaStatus(gpu::Scatter(map, dy.raw_data(), out->raw_data(), DataTypeSize(dy.dtype()),
                                   dy.NumElements(), gpu->compute),
                      "the StridedSliceGrad GPU kernel");
  }

 private:
  StridedSliceMasks masks_;
};

REGISTER_KERNEL(KernelDefBuilder("Slice")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("begin")
                    .HostMemory("size"),
                SliceGpuOp);

REGISTER_KERNEL(KernelDefBuilder("StridedSlice")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("begin")
                    .HostMemory("end")
                    .HostMemory("strides"),
                StridedSliceGpuOp);
REGISTER_KERNEL(KernelDefBuilder("StridedSliceGrad")
                    .Device(kGpu)
                    .TypeConstraint("T", kGpuMemoryTypes)
                    .HostMemory("shape")
                    .HostMemory("begin")
                    .HostMemory("end")
                    .HostMemory("strides"),
                StridedSliceGradGpuOp);

}  // namespace
}  // namespace runnel
