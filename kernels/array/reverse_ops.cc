// ReverseV2 (whole dims reversed) and ReverseSequence (each batch element's first
// seq_lengths[b] steps reversed): strided copies, negative strides along reversed dims.
#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"
#include "kernels/util/strided_copy.h"

namespace runnel {
namespace {

class ReverseOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(std::vector<int64_t> axes, IntValues(ctx->input(1), "axis"));
    std::vector<bool> reversed(x.dims(), false);
    for (int64_t axis : axes) {
      const int64_t d = axis < 0 ? axis + x.dims() : axis;
      RN_REQUIRE(d >= 0 && d < x.dims(), "axis ", axis, " is out of range for an input of rank ",
                 x.dims());
      RN_REQUIRE(!reversed[d], "axis ", axis, " is given twice");
      reversed[d] = true;
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &out));
    if (x.NumElements() == 0) return absl::OkStatus();
    const int elem = DataTypeSize(x.dtype());
    const DimVector dims = DimsOf(x.shape());
    const DimVector dense = DenseStrides(dims, elem);
    DimVector src_strides = dense;
    const char* src = static_cast<const char*>(x.raw_data());
    for (int d = 0; d < x.dims(); ++d) {
      if (!reversed[d]) continue;
      src += (dims[d] - 1) * dense[d];
      src_strides[d] = -dense[d];
    }
    StridedCopy(elem, dims, src, src_strides, static_cast<char*>(out->raw_data()), dense,
                ctx->thread_pool());
    return absl::OkStatus();
  }
};

class ReverseSequenceOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("seq_dim", &seq_dim_));
    return ctx->GetAttr("batch_dim", &batch_dim_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const int rank = x.dims();
    RN_REQUIRE(seq_dim_ >= 0 && seq_dim_ < rank && batch_dim_ >= 0 && batch_dim_ < rank &&
                   seq_dim_ != batch_dim_,
               "seq_dim ", seq_dim_, " and batch_dim ", batch_dim_,
               " must be two different dims of the input, of rank ", rank);
    ASSIGN_OR_RETURN(std::vector<int64_t> lengths, IntValues(ctx->input(1), "seq_lengths"));
    const int64_t batch = x.dim_size(batch_dim_), steps = x.dim_size(seq_dim_);
    RN_REQUIRE(ctx->input(1).dims() == 1 && static_cast<int64_t>(lengths.size()) == batch,
               "seq_lengths must be a vector of the batch size ", batch, ", got shape ",
               ctx->input(1).shape().DebugString());
    for (int64_t b = 0; b < batch; ++b) {
      RN_REQUIRE(lengths[b] >= 0 && lengths[b] <= steps, "seq_lengths[", b, "] = ", lengths[b],
                 " is outside [0, ", steps, "], the length of dim ", seq_dim_);
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &out));
    if (x.NumElements() == 0) return absl::OkStatus();
    const int elem = DataTypeSize(x.dtype());
    const DimVector dims = DimsOf(x.shape());
    const DimVector dense = DenseStrides(dims, elem);
    const char* in = static_cast<const char*>(x.raw_data());
    char* o = static_cast<char*>(out->raw_data());
    // One copy per (batch element, step): the block of the other dims at that position.
    DimVector block = dims;
    block[batch_dim_] = block[seq_dim_] = 1;
    for (int64_t b = 0; b < batch; ++b) {
      for (int64_t t = 0; t < steps; ++t) {
        const int64_t from = t < lengths[b] ? lengths[b] - 1 - t : t;
        const int64_t base = b * dense[batch_dim_];
        StridedCopy(elem, block, in + base + from * dense[seq_dim_], dense,
                    o + base + t * dense[seq_dim_], dense);
      }
    }
    return absl::OkStatus();
  }

 private:
  int64_t seq_dim_ = -1, batch_dim_ = 0;
};

REGISTER_KERNEL(KernelDefBuilder("ReverseV2").Device(kCpu).AllowStrings(), ReverseOp);
REGISTER_KERNEL(KernelDefBuilder("ReverseSequence").Device(kCpu).AllowStrings(), ReverseSequenceOp);

}  // namespace
}  // namespace runnel
