// Slice and StridedSlice: both become one strided copy of the input.
#include <cstring>

#include "core/kernel_registry.h"
#include "core/strided_slice.h"
#include "kernels/util/int_values.h"
#include "kernels/util/kernel_args.h"
#include "kernels/util/strided_copy.h"

namespace runnel {
namespace {

// Copies input[begin[d] + i * stride[d]] for i < size[d] into a dense output of `shape`.
absl::Status CopySlice(OpKernelContext* ctx, const Tensor& x, const std::vector<int64_t>& begin,
                       const std::vector<int64_t>& stride, const DimVector& size,
                       const TensorShape& shape) {
  Tensor* out;
  RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
  if (out->NumElements() == 0) return absl::OkStatus();
  const int elem = DataTypeSize(x.dtype());
  DimVector in_dims = DimsOf(x.shape());
  DimVector in_strides = DenseStrides(in_dims, elem);
  const char* src = static_cast<const char*>(x.raw_data());
  DimVector src_strides(x.dims());
  for (int d = 0; d < x.dims(); ++d) {
    src += begin[d] * in_strides[d];
    src_strides[d] = stride[d] * in_strides[d];
  }
  StridedCopy(elem, size, src, src_strides, static_cast<char*>(out->raw_data()),
              DenseStrides(size, elem), ctx->thread_pool());
  return absl::OkStatus();
}

// The elements a slice copies: the product of `sizes`.
int64_t Elements(const DimVector& sizes) {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return n;
}

class SliceOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> begin, IntValues(ctx->input(1), "begin"));
    ASSIGN_OR_RETURN(DimVector sizes, Sizes(x, begin, ctx->input(2)));
    return CopySlice(ctx, x, begin, std::vector<int64_t>(x.dims(), 1), sizes, TensorShape(sizes));
  }
  int64_t WorkElements(absl::Span<const Tensor> inputs) const override {
    auto begin = IntValues(inputs[1], "begin");
    auto sizes = begin.ok() ? Sizes(inputs[0], *begin, inputs[2]) : begin.status();
    return sizes.ok() ? Elements(*sizes) : OpKernel::WorkElements(inputs);
  }

 private:
  static absl::StatusOr<DimVector> Sizes(const Tensor& x, const std::vector<int64_t>& begin,
                                         const Tensor& size_input) {
    return SliceSizes(x.shape(), begin, size_input);
  }
};

class StridedSliceOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ReadStridedSliceMasks(AttrSlice(ctx->def()), &masks_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(StridedSlicePlan plan, Plan(x, ctx->input(1), ctx->input(2), ctx->input(3)));
    DimVector sizes(plan.size.begin(), plan.size.end());
    return CopySlice(ctx, x, plan.begin, plan.stride, sizes, plan.final_shape.ToTensorShape());
  }
  int64_t WorkElements(absl::Span<const Tensor> inputs) const override {
    auto plan = Plan(inputs[0], inputs[1], inputs[2], inputs[3]);
    return plan.ok() ? Elements(DimVector(plan->size.begin(), plan->size.end()))
                     : OpKernel::WorkElements(inputs);
  }

 private:
  absl::StatusOr<StridedSlicePlan> Plan(const Tensor& x, const Tensor& begin_input,
                                        const Tensor& end_input,
                                        const Tensor& strides_input) const {
    return PlanStridedSliceOf(x.shape(), begin_input, end_input, strides_input, masks_);
  }

  StridedSliceMasks masks_;
};

// Zeros of the sliced input's shape, with dy written back where StridedSlice read it.
class StridedSliceGradOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ReadStridedSliceMasks(AttrSlice(ctx->def()), &masks_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(StridedSliceGradPlan grad, PlanStridedSliceGrad(ctx, masks_));
    const TensorShape& shape = grad.shape;
    const StridedSlicePlan& plan = grad.slice;
    const Tensor& dy = ctx->input(4);
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    std::memset(out->raw_data(), 0, out->TotalBytes());
    if (dy.NumElements() == 0) return absl::OkStatus();
    const int elem = DataTypeSize(dy.dtype());
    DimVector out_strides = DenseStrides(DimsOf(shape), elem);
    char* dst = static_cast<char*>(out->raw_data());
    DimVector dst_strides(shape.dims());
    for (int d = 0; d < shape.dims(); ++d) {
      dst += plan.begin[d] * out_strides[d];
      dst_strides[d] = plan.stride[d] * out_strides[d];
    }
    DimVector sizes(plan.size.begin(), plan.size.end());
    StridedCopy(elem, sizes, static_cast<const char*>(dy.raw_data()), DenseStrides(sizes, elem),
                dst, dst_strides, ctx->thread_pool());
    return absl::OkStatus();
  }

 private:
  StridedSliceMasks masks_;
};

REGISTER_KERNEL(KernelDefBuilder("Slice").Device(kCpu), SliceOp);
REGISTER_KERNEL(KernelDefBuilder("StridedSlice").Device(kCpu), StridedSliceOp);
REGISTER_KERNEL(KernelDefBuilder("StridedSliceGrad").Device(kCpu), StridedSliceGradOp);

}  // namespace
}  // namespace runnel
