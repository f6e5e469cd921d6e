// SpaceToDepth and DepthToSpace: a permutation of elements, copied in runs of C (NHWC; NCHW
// goes through transposes). Any dtype: elements are moved by size.
#include <cstring>

#include "core/kernel_registry.h"
#include "core/threadpool.h"
#include "kernels/util/conv_util.h"

namespace runnel {
namespace {

// NHWC: the pixel (n, h * b + bh, w * b + bw) of the spatial tensor holds channels
// [(bh * b + bw) * C, +C) of the depth tensor's pixel (n, h, w).
void Permute(const Tensor& in, Tensor* out, int64_t block, bool to_depth, ThreadPool* pool) {
  const Tensor& space = to_depth ? in : *out;
  const int64_t n = space.dim_size(0), sh = space.dim_size(1), sw = space.dim_size(2);
  const int64_t c = space.dim_size(3), dh = sh / block, dw = sw / block;
  const int64_t elem = DataTypeSize(in.dtype()), run = c * elem;
  const char* src = static_cast<const char*>(in.raw_data());
  char* dst = static_cast<char*>(out->raw_data());
  pool->ParallelFor(n * dh, dw * block * block * c, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {  // (n, h) of the depth tensor
      const int64_t b = row / dh, h = row % dh;
      for (int64_t w = 0; w < dw; ++w) {
        for (int64_t bh = 0; bh < block; ++bh) {
          for (int64_t bw = 0; bw < block; ++bw) {
            const int64_t space_at = ((b * sh + h * block + bh) * sw + w * block + bw) * run;
            const int64_t depth_at = ((row * dw + w) * block * block + bh * block + bw) * run;
            if (to_depth) {
              std::memcpy(dst + depth_at, src + space_at, run);
            } else {
              std::memcpy(dst + space_at, src + depth_at, run);
            }
          }
        }
      }
    }
  });
}

template <bool kToDepth>
class SpaceDepthOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("block_size", &block_));
    std::string format;
    RETURN_IF_ERROR(ctx->GetAttr("data_format", &format));
    RN_REQUIRE(format == "NHWC" || format == "NCHW", "data_format ", format,
               " is not supported; use NHWC or NCHW");
    nchw_ = format == "NCHW";
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Tensor in, ToNhwc(ctx->input(0), nchw_, "input", ctx->thread_pool()));
    const int64_t h = in.dim_size(1), w = in.dim_size(2), c = in.dim_size(3);
    TensorShape out_shape;
    if (kToDepth) {
      RN_REQUIRE(h % block_ == 0 && w % block_ == 0, "the input's height and width (", h, ", ", w,
                 ") must be divisible by block_size ", block_);
      out_shape = {in.dim_size(0), h / block_, w / block_, c * block_ * block_};
    } else {
      RN_REQUIRE(c % (block_ * block_) == 0, "the input's depth ", c,
                 " must be divisible by block_size squared (", block_ * block_, ")");
      out_shape = {in.dim_size(0), h * block_, w * block_, c / (block_ * block_)};
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, FromNhwc(out_shape, nchw_), &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    ComputeInNhwc(out, nchw_, ctx->thread_pool(),
                  [&](Tensor* nhwc) { Permute(in, nhwc, block_, kToDepth, ctx->thread_pool()); });
    return absl::OkStatus();
  }

 private:
  int64_t block_ = 2;
  bool nchw_ = false;
};

REGISTER_KERNEL(KernelDefBuilder("SpaceToDepth").Device(kCpu), SpaceDepthOp<true>);
REGISTER_KERNEL(KernelDefBuilder("DepthToSpace").Device(kCpu), SpaceDepthOp<false>);

}  // namespace
}  // namespace runnel
