// Transpose: output dim i is input dim perm[i]; one strided copy.
#include "core/kernel_registry.h"
#include "kernels/util/kernel_args.h"
#include "kernels/util/strided_copy.h"

namespace runnel {
namespace {

class TransposeOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> perm, Permutation(ctx->input(1), x.dims()));
    TensorShape out_shape;
    for (int64_t p : perm) out_shape.AddDim(x.dim_size(static_cast<int>(p)));
    const int size = DataTypeSize(x.dtype());
    DimVector in_dims = DimsOf(x.shape());
    DimVector in_strides = DenseStrides(in_dims, size);
    DimVector out_dims = DimsOf(out_shape);
    DimVector src_strides(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) src_strides[i] = in_strides[perm[i]];
    bool identity = true;
    for (size_t i = 0; i < perm.size(); ++i) identity &= perm[i] == static_cast<int64_t>(i);
    if (identity) {
      ctx->set_output(0, x);
      return absl::OkStatus();
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, out_shape, &out));
    StridedCopy(size, out_dims, static_cast<const char*>(x.raw_data()), src_strides,
                static_cast<char*>(out->raw_data()), DenseStrides(out_dims, size),
                ctx->thread_pool());
    return absl::OkStatus();
  }
};

REGISTER_KERNEL(KernelDefBuilder("Transpose").Device(kCpu), TransposeOp);

}  // namespace
}  // namespace runnel
