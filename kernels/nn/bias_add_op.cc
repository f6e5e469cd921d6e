// BiasAdd adds a per-channel bias (NHWC: last dim; NCHW: dim 1); BiasAddGrad sums a
// gradient over everything but that dim.
#include "core/kernel_registry.h"

namespace runnel {
namespace {

template <typename T>
class BiasAddOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    if (ctx->HasAttr("data_format")) RETURN_IF_ERROR(ctx->GetAttr("data_format", &format_));
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& bias = ctx->input(1);
    RN_REQUIRE(x.dims() >= 2, "value must have rank >= 2, got shape ", x.shape().DebugString());
    RN_REQUIRE(bias.dims() == 1, "bias must be a vector, got shape ", bias.shape().DebugString());
    const bool nchw = format_ == "NCHW";
    const int channel_dim = nchw ? 1 : x.dims() - 1;
    const int64_t channels = x.dim_size(channel_dim);
    RN_REQUIRE(bias.dim_size(0) == channels, "bias has ", bias.dim_size(0),
               " elements but value has ", channels, " channels (", format_, " shape ",
               x.shape().DebugString(), ")");
    Tensor* out;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &out));
    if (x.NumElements() == 0) return absl::OkStatus();
    // View as [outer, channels, inner]: inner is 1 for NHWC.
    int64_t inner = 1;
    for (int i = channel_dim + 1; i < x.dims(); ++i) inner *= x.dim_size(i);
    const int64_t outer = x.NumElements() / (channels * inner);
    const T* in = x.data<T>();
    const T* b = bias.data<T>();
    T* o = out->data<T>();
    ctx->thread_pool()->ParallelFor(outer * channels, inner + 2, [&](int64_t begin, int64_t end) {
      if (inner == 1) {
        for (int64_t row = begin; row < end;) {
          int64_t c = row % channels;
          int64_t run = std::min(end - row, channels - c);
          const T* ip = in + row;
          T* op = o + row;
          for (int64_t j = 0; j < run; ++j) op[j] = ip[j] + b[c + j];
          row += run;
        }
        return;
      }
      for (int64_t row = begin; row < end; ++row) {
        const T bv = b[row % channels];
        const T* ip = in + row * inner;
        T* op = o + row * inner;
        for (int64_t j = 0; j < inner; ++j) op[j] = ip[j] + bv;
      }
    });
    return absl::OkStatus();
  }

 private:
  std::string format_ = "NHWC";
};

template <typename T>
class BiasAddGradOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("data_format", &format_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& dy = ctx->input(0);
    RN_REQUIRE(dy.dims() >= 2, "out_backprop must have rank >= 2, got shape ",
               dy.shape().DebugString());
    const int channel_dim = format_ == "NCHW" ? 1 : dy.dims() - 1;
    const int64_t channels = dy.dim_size(channel_dim);
    int64_t inner = 1;
    for (int i = channel_dim + 1; i < dy.dims(); ++i) inner *= dy.dim_size(i);
    const int64_t outer = channels == 0 ? 0 : dy.NumElements() / (channels * inner);
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{channels}, &out));
    T* o = out->data<T>();
    std::fill(o, o + channels, T(0));
    const T* in = dy.data<T>();
    // NHWC: rows of channels sum as vectors. NCHW: each plane sums into its channel.
    if (inner == 1) {
      for (int64_t b = 0; b < outer; ++b) {
        const T* row = in + b * channels;
        for (int64_t c = 0; c < channels; ++c) o[c] += row[c];
      }
      return absl::OkStatus();
    }
    for (int64_t b = 0; b < outer; ++b) {
      for (int64_t c = 0; c < channels; ++c) {
        const T* p = in + (b * channels + c) * inner;
        T acc = 0;
        for (int64_t j = 0; j < inner; ++j) acc += p[j];
        o[c] += acc;
      }
    }
    return absl::OkStatus();
  }

 private:
  std::string format_;
};

REGISTER_KERNEL_FOR_TYPES("BiasAdd", kCpu, "T", BiasAddOp, float, double, int32_t, int64_t);
REGISTER_KERNEL_FOR_TYPES("BiasAddV1", kCpu, "T", BiasAddOp, float, double, int32_t, int64_t);
REGISTER_KERNEL_FOR_TYPES("BiasAddGrad", kCpu, "T", BiasAddGradOp, float, double, int32_t, int64_t);

}  // namespace
}  // namespace runnel
