// What a fused kernel (_FusedConv2D, _FusedDepthwiseConv2dNative, _FusedMatMul) does after
// its convolution or product: fused_ops = ["BiasAdd"], ["BiasAdd", "Relu"] or
// ["BiasAdd", "Relu6"], the bias being the kernel's third input, along the last dim.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "core/op_kernel.h"
#include "core/status.h"

namespace runnel {

enum class Activation { kNone, kRelu, kRelu6 };

class FusedEpilogue {
 public:
  absl::Status Init(OpKernelConstruction* ctx) {
    std::vector<std::string> ops;
    int64_t num_args = 0;
    RETURN_IF_ERROR(ctx->GetAttr("fused_ops", &ops));
    RETURN_IF_ERROR(ctx->GetAttr("num_args", &num_args));
    const bool bias = !ops.empty() && ops[0] == "BiasAdd";
    if (ops.size() == 2 && ops[1] == "Relu") activation_ = Activation::kRelu;
    if (ops.size() == 2 && ops[1] == "Relu6") activation_ = Activation::kRelu6;
    if (!bias || num_args != 1 || (ops.size() == 2 && activation_ == Activation::kNone) ||
        ops.size() > 2) {
      return absl::UnimplementedError(absl::StrCat(
          "fused_ops [", absl::StrJoin(ops, ", "), "] with num_args ", num_args,
          " is not supported (BiasAdd, optionally then Relu or Relu6, with one arg)"));
    }
    return absl::OkStatus();
  }

  Activation activation() const { return activation_; }

  // Input `bias_input`, checked to be a vector of `channels`.
  template <typename T>
  absl::StatusOr<const T*> Bias(OpKernelContext* ctx, int bias_input, int64_t channels) const {
    const Tensor& bias = ctx->input(bias_input);
    RN_REQUIRE(bias.dims() == 1 && bias.dim_size(0) == channels, "bias must be a vector of ",
               channels, " (the output's last dim), got shape ", bias.shape().DebugString());
    return bias.data<T>();
  }

  // Adds input `bias_input` to every row of output 0 and applies the activation.
  template <typename T>
  absl::Status Apply(OpKernelContext* ctx, int bias_input) const {
    Tensor& out = ctx->output(0);
    const int64_t channels = out.dims() > 0 ? out.dim_size(out.dims() - 1) : 1;
    ASSIGN_OR_RETURN(const T* b, Bias<T>(ctx, bias_input, channels));
    if (out.NumElements() == 0) return absl::OkStatus();
    T* data = out.data<T>();
    const Activation activation = activation_;
    ctx->thread_pool()->ParallelFor(out.NumElements() / channels, channels,
                                    [&](int64_t begin, int64_t end) {
      for (int64_t row = begin; row < end; ++row) {
        T* x = data + row * channels;
        for (int64_t c = 0; c < channels; ++c) {
          T v = x[c] + b[c];
          if (activation != Activation::kNone) v = std::max(v, T(0));
          if (activation == Activation::kRelu6) v = std::min(v, T(6));
          x[c] = v;
        }
      }
    });
    return absl::OkStatus();
  }

 private:
  Activation activation_ = Activation::kNone;
};

// `Base` (a kernel computing output 0) followed by the epilogue; its bias is input 2.
// Base::ComputeFused(ctx, epilogue) runs the kernel and then the epilogue, which it may
// fold into its own computation.
template <typename Base, typename T>
class Fused : public Base {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(Base::Init(ctx));
    if (ctx->HasAttr("data_format")) {
      std::string format;
      RETURN_IF_ERROR(ctx->GetAttr("data_format", &format));
      if (format != "NHWC") {
        return absl::UnimplementedError("fused convolutions support only data_format NHWC");
      }
    }
    return epilogue_.Init(ctx);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    return Base::ComputeFused(ctx, &epilogue_);
  }

 private:
  FusedEpilogue epilogue_;
};

}  // namespace runnel
