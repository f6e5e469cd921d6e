// LRN and LRNGrad on the CPU: each pixel's channel row normalized by a sliding sum of
// squares over 2r + 1 neighbouring channels, rows spread over the pool.
#include <cmath>
#include <vector>

#include "core/kernel_registry.h"
#include "core/threadpool.h"

namespace runnel {
namespace {

struct LrnAttrs {
  int64_t radius = 5;
  float bias = 1, alpha = 1, beta = 0.5f;

  absl::Status Read(OpKernelConstruction* ctx) {
    RETURN_IF_ERROR(ctx->GetAttr("depth_radius", &radius));
    RETURN_IF_ERROR(ctx->GetAttr("bias", &bias));
    RETURN_IF_ERROR(ctx->GetAttr("alpha", &alpha));
    RETURN_IF_ERROR(ctx->GetAttr("beta", &beta));
    RN_REQUIRE(radius >= 0, "depth_radius must not be negative, got ", radius);
    return absl::OkStatus();
  }

  // norm[c] = bias + alpha * sum of x[k]^2 for |k - c| <= radius, for one row of channels.
  template <typename T>
  void Norms(const T* x, int64_t channels, double* norm) const {
    double window = 0;
    for (int64_t k = 0; k < std::min(channels, radius); ++k) window += double(x[k]) * x[k];
    for (int64_t c = 0; c < channels; ++c) {
      if (c + radius < channels) window += double(x[c + radius]) * x[c + radius];
      if (c - radius - 1 >= 0) window -= double(x[c - radius - 1]) * x[c - radius - 1];
      norm[c] = bias + alpha * window;
    }
  }
};

absl::Status CheckRank4(const Tensor& t, const char* what) {
  RN_REQUIRE(t.dims() == 4, what, " must be 4-D [batch, height, width, channels], got shape ",
             t.shape().DebugString());
  return absl::OkStatus();
}

template <typename T>
class LrnOp : public OpKernel, LrnAttrs {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return Read(ctx); }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    RETURN_IF_ERROR(CheckRank4(x, "input"));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &out));
    const int64_t channels = x.dim_size(3);
    if (out->NumElements() == 0) return absl::OkStatus();
    const T* in = x.data<T>();
    T* o = out->data<T>();
    ctx->thread_pool()->ParallelFor(x.NumElements() / channels, channels * 8,
                                    [&](int64_t begin, int64_t end) {
      std::vector<double> norm(channels);
      for (int64_t r = begin; r < end; ++r) {
        const T* row = in + r * channels;
        Norms(row, channels, norm.data());
        for (int64_t c = 0; c < channels; ++c) {
          o[r * channels + c] = static_cast<T>(row[c] * std::pow(norm[c], -double(beta)));
        }
      }
    });
    return absl::OkStatus();
  }
};

// dx[j] = g[j] N[j]^-beta - 2 alpha beta x[j] sum over c within the radius of j of
// g[c] y[c] / N[c], from y[c] = x[c] N[c]^-beta with N[c] = bias + alpha sum x[k]^2.
template <typename T>
class LrnGradOp : public OpKernel, LrnAttrs {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return Read(ctx); }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& g = ctx->input(0);
    const Tensor& x = ctx->input(1);
    const Tensor& y = ctx->input(2);
    RETURN_IF_ERROR(CheckRank4(x, "input_image"));
    RN_REQUIRE(g.shape() == x.shape() && y.shape() == x.shape(), "input_grads ",
               g.shape().DebugString(), ", input_image ", x.shape().DebugString(),
               " and output_image ", y.shape().DebugString(), " must have one shape");
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &out));
    const int64_t channels = x.dim_size(3);
    if (out->NumElements() == 0) return absl::OkStatus();
    ctx->thread_pool()->ParallelFor(x.NumElements() / channels, channels * 16,
                                    [&](int64_t begin, int64_t end) {
      std::vector<double> norm(channels), scaled(channels);
      for (int64_t r = begin; r < end; ++r) {
        const T* xr = x.data<T>() + r * channels;
        const T* gr = g.data<T>() + r * channels;
        const T* yr = y.data<T>() + r * channels;
        Norms(xr, channels, norm.data());
        for (int64_t c = 0; c < channels; ++c) scaled[c] = double(gr[c]) * yr[c] / norm[c];
        T* o = out->data<T>() + r * channels;
        double window = 0;  // sum of scaled[c] for |c - j| <= radius
        for (int64_t k = 0; k < std::min(channels, radius); ++k) window += scaled[k];
        for (int64_t j = 0; j < channels; ++j) {
          if (j + radius < channels) window += scaled[j + radius];
          if (j - radius - 1 >= 0) window -= scaled[j - radius - 1];
          o[j] = static_cast<T>(gr[j] * std::pow(norm[j], -double(beta)) -
                                2.0 * alpha * beta * xr[j] * window);
        }
      }
    });
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("LRN", kCpu, "T", LrnOp, float, double);
REGISTER_KERNEL_FOR_TYPES("LRNGrad", kCpu, "T", LrnGradOp, float, double);

}  // namespace
}  // namespace runnel
