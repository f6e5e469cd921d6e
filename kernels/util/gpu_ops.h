// What the GPU kernels of several families share (GPU code only): the float32 kernel
// registration, device-to-device copies, transposes and pads of whole tensors, the
// copy-on-write of a variable before an update, and the kernel of a unary elementwise
// function.
#pragma once

#include <vector>

#include "core/gpu/gpu_context.h"
#include "core/kernel_registry.h"
#include "kernels/util/gpu_kernels.h"
#include "kernels/util/strided_copy.h"

#define REGISTER_GPU_FLOAT(op, kernel) \
  REGISTER_KERNEL(KernelDefBuilder(op).Device(kGpu).TypeConstraint<float>("T"), kernel)

namespace runnel {

// The index maps of the gather, scatter and pad kernels take tensors of at most
// gpu::kMaxBroadcastDims dims.
inline absl::Status CheckGpuRank(int rank) {
  RN_REQUIRE(rank <= gpu::kMaxBroadcastDims, "rank ", rank, " is more than the GPU kernel's ",
             gpu::kMaxBroadcastDims);
  return absl::OkStatus();
}

// The broadcast of two dense operands of n elements each (no broadcasting).
inline gpu::Broadcast SameShape(int64_t n) {
  gpu::Broadcast b;
  b.rank = 1;
  b.dims[0] = n;
  b.x_strides[0] = b.y_strides[0] = 1;
  return b;
}

// A copy of `t` in the kernel's device memory, queued on the compute stream.
inline absl::StatusOr<Tensor> CopyOnGpu(const Tensor& t, OpKernelContext* ctx,
                                        cudaStream_t stream) {
  Tensor copy(t.dtype(), t.shape(), ctx->allocator());
  RETURN_IF_ERROR(CudaStatus(cudaMemcpyAsync(copy.raw_data(), t.raw_data(), t.TotalBytes(),
                                             cudaMemcpyDeviceToDevice, stream),
                             "cudaMemcpyAsync"));
  return copy;
}

// `t` with its dims permuted (output dim d is input dim perm[d]), queued on `stream`.
inline absl::StatusOr<Tensor> TransposeOnGpu(const Tensor& t, const std::vector<int64_t>& perm,
                                             OpKernelContext* ctx, cudaStream_t stream) {
  RETURN_IF_ERROR(CheckGpuRank(t.dims()));
  TensorShape shape;
  gpu::IndexMap map;
  map.rank = t.dims();
  const DimVector strides = DenseStrides(DimsOf(t.shape()), 1);
  for (int d = 0; d < t.dims(); ++d) {
    const int from = static_cast<int>(perm[d]);
    shape.AddDim(t.dim_size(from));
    map.dims[d] = map.in_dims[d] = t.dim_size(from);
    map.in_strides[d] = strides[from];
  }
  Tensor out(t.dtype(), shape, ctx->allocator());
  RETURN_IF_ERROR(CudaStatus(gpu::Gather(map, t.raw_data(), out.raw_data(), DataTypeSize(t.dtype()),
                                         out.NumElements(), stream),
                             "the transpose GPU kernel"));
  return out;
}

// `t` with before[d] elements added ahead of dim d and after[d] behind it (negative:
// removed), the new ones `fill` (host memory, one element; null: zeros).
inline absl::StatusOr<Tensor> PadOnGpu(const Tensor& t, const std::vector<int64_t>& before,
                                       const std::vector<int64_t>& after, const void* fill,
                                       OpKernelContext* ctx, cudaStream_t stream) {
  RETURN_IF_ERROR(CheckGpuRank(t.dims()));
  TensorShape shape;
  gpu::PadMap map;
  map.rank = t.dims();
  for (int d = 0; d < t.dims(); ++d) {
    const int64_t size = t.dim_size(d) + before[d] + after[d];
    RN_REQUIRE(size >= 0, "padding ", before[d], ", ", after[d], " leaves dim ", d, " of ",
               t.shape().DebugString(), " negative");
    shape.AddDim(size);
    map.dims[d] = size;
    map.in_dims[d] = t.dim_size(d);
    map.before[d] = before[d];
  }
  Tensor out(t.dtype(), shape, ctx->allocator());
  const uint64_t zero = 0;
  RETURN_IF_ERROR(CudaStatus(gpu::Pad(map, t.raw_data(), out.raw_data(), DataTypeSize(t.dtype()),
                                      out.NumElements(), fill != nullptr ? fill : &zero, stream),
                             "the pad GPU kernel"));
  return out;
}

// PrepareForInPlaceUpdate for a variable in device memory: when readers still hold its
// buffer, the variable moves to a private copy (call with its mutex held).
inline absl::Status PrepareForInPlaceUpdateOnGpu(const TensorRef& ref, OpKernelContext* ctx,
                                                 cudaStream_t stream) {
  if (ref.tensor->IsInitialized() && !ref.tensor->RefCountIsOne()) {
    ASSIGN_OR_RETURN(*ref.tensor, CopyOnGpu(*ref.tensor, ctx, stream));
  }
  return absl::OkStatus();
}

template <gpu::UnaryOp kOp>
class UnaryGpuOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(GpuDeviceContext * gpu, GpuContext(ctx));
    const Tensor& x = ctx->input(0);
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &out));
    return CudaStatus(
        gpu::Unary(kOp, x.data<float>(), out->data<float>(), x.NumElements(), gpu->compute),
        "the unary GPU kernel");
  }
};

}  // namespace runnel
