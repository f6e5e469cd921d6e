// FusedBatchNorm(V2, V3) and their gradients on the CPU, in NHWC (NCHW through a
// transpose) as [rows, channels]: per-channel sums over the rows (each thread sums a share
// of the rows into its own partial, in double), then one elementwise pass. x and the
// per-channel tensors must have the same dtype (T = U, float or double).
#include <cmath>
#include <vector>

#include "core/kernel_registry.h"
#include "core/threadpool.h"
#include "kernels/util/conv_util.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

// sums[k][c] = sum over rows r of term(k, r, c) for k < kTerms, rows spread over the pool.
template <int kTerms, typename Term>
std::vector<std::vector<double>> ChannelSums(int64_t rows, int64_t channels, ThreadPool* pool,
                                             Term&& term) {
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(pool->NumThreads(), rows));
  std::vector<std::vector<double>> partial(parts * kTerms, std::vector<double>(channels, 0.0));
  pool->ParallelFor(parts, rows / parts * channels * kTerms, [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) {
      for (int64_t r = rows * part / parts; r < rows * (part + 1) / parts; ++r) {
        for (int k = 0; k < kTerms; ++k) {
          double* sum = partial[part * kTerms + k].data();
          for (int64_t c = 0; c < channels; ++c) sum[c] += term(k, r, c);
        }
      }
    }
  });
  std::vector<std::vector<double>> sums(kTerms, std::vector<double>(channels, 0.0));
  for (int64_t part = 0; part < parts; ++part) {
    for (int k = 0; k < kTerms; ++k) {
      for (int64_t c = 0; c < channels; ++c) sums[k][c] += partial[part * kTerms + k][c];
    }
  }
  return sums;
}

// out[r, c] = x[r, c] * a[c] + b[c], rows spread over the pool.
template <typename T>
void ScaleShift(const T* x, const std::vector<T>& a, const std::vector<T>& b, int64_t rows, T* out,
                ThreadPool* pool) {
  const int64_t channels = static_cast<int64_t>(a.size());
  pool->ParallelFor(rows, channels * 2, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const T* xr = x + r * channels;
      T* o = out + r * channels;
      for (int64_t c = 0; c < channels; ++c) o[c] = xr[c] * a[c] + b[c];
    }
  });
}

template <typename T>
std::vector<T> Copy(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

// Writes a vector into output i.
template <typename T>
absl::Status SetVector(OpKernelContext* ctx, int i, const std::vector<T>& v) {
  Tensor* out;
  RETURN_IF_ERROR(ctx->allocate_output(i, TensorShape{static_cast<int64_t>(v.size())}, &out));
  std::copy(v.begin(), v.end(), out->data<T>());
  return absl::OkStatus();
}

template <typename T>
class FusedBatchNormOp : public OpKernel, BatchNormAttrs {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return Read(ctx); }

  absl::Status Compute(OpKernelContext* ctx) override {
    ThreadPool* pool = ctx->thread_pool();
    ASSIGN_OR_RETURN(Tensor x, ToNhwc(ctx->input(0), nchw, "x", pool));
    const int64_t channels = x.dim_size(3), rows = x.NumElements() / std::max<int64_t>(channels, 1);
    const DataType dtype = x.dtype();
    RETURN_IF_ERROR(CheckForwardArgs(ctx, channels, dtype));
    const std::vector<T> scale = Copy<T>(ctx->input(1)), offset = Copy<T>(ctx->input(2));
    std::vector<T> mean = Copy<T>(ctx->input(3)), variance = Copy<T>(ctx->input(4));
    std::vector<T> batch_mean = mean, batch_variance = variance;
    if (training) {
      RN_REQUIRE(rows > 0, "x has no elements to take the batch's statistics of, shape ",
                 ctx->input(0).shape().DebugString());
      const T* xp = x.data<T>();
      auto sums = ChannelSums<1>(rows, channels, pool,
                                 [&](int, int64_t r, int64_t c) { return xp[r * channels + c]; });
      std::vector<double> m(channels);
      for (int64_t c = 0; c < channels; ++c) m[c] = sums[0][c] / rows;
      auto squares = ChannelSums<1>(rows, channels, pool, [&](int, int64_t r, int64_t c) {
        const double d = xp[r * channels + c] - m[c];
        return d * d;
      });
      mean.assign(channels, T(0));
      variance.assign(channels, T(0));
      batch_mean.resize(channels);
      batch_variance.resize(channels);
      const bool blend = factor != 1.0f && ctx->input(3).NumElements() == channels;
      for (int64_t c = 0; c < channels; ++c) {
        mean[c] = static_cast<T>(m[c]);
        variance[c] = static_cast<T>(squares[0][c] / rows);
        const double corrected = rows > 1 ? squares[0][c] / (rows - 1) : squares[0][c];
        batch_mean[c] = static_cast<T>(
            blend ? (1 - factor) * ctx->input(3).data<T>()[c] + factor * m[c] : m[c]);
        batch_variance[c] = static_cast<T>(
            blend ? (1 - factor) * ctx->input(4).data<T>()[c] + factor * corrected : corrected);
      }
    }
    std::vector<T> a(channels), b(channels);
    for (int64_t c = 0; c < channels; ++c) {
      a[c] = static_cast<T>(scale[c] / std::sqrt(static_cast<double>(variance[c]) + epsilon));
      b[c] = offset[c] - mean[c] * a[c];
    }
    Tensor* y;
    RETURN_IF_ERROR(ctx->allocate_output(0, ctx->input(0).shape(), &y));
    ComputeInNhwc(y, nchw, pool, [&](Tensor* nhwc) {
      ScaleShift(x.data<T>(), a, b, rows, nhwc->data<T>(), pool);
    });
    RETURN_IF_ERROR(SetVector(ctx, 1, batch_mean));
    RETURN_IF_ERROR(SetVector(ctx, 2, batch_variance));
    RETURN_IF_ERROR(SetVector(ctx, 3, mean));
    RETURN_IF_ERROR(SetVector(ctx, 4, variance));
    if (ctx->num_outputs() == 6) {
      Tensor* unused;
      RETURN_IF_ERROR(ctx->allocate_output(5, TensorShape{}, &unused));
      unused->data<T>()[0] = T(0);
    }
    return absl::OkStatus();
  }
};

template <typename T>
class FusedBatchNormGradOp : public OpKernel, BatchNormAttrs {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return Read(ctx); }

  absl::Status Compute(OpKernelContext* ctx) override {
    ThreadPool* pool = ctx->thread_pool();
    ASSIGN_OR_RETURN(Tensor dy, ToNhwc(ctx->input(0), nchw, "y_backprop", pool));
    ASSIGN_OR_RETURN(Tensor x, ToNhwc(ctx->input(1), nchw, "x", pool));
    RN_REQUIRE(dy.shape() == x.shape(), "y_backprop has shape ",
               ctx->input(0).shape().DebugString(), " but x has shape ",
               ctx->input(1).shape().DebugString());
    const int64_t channels = x.dim_size(3), rows = x.NumElements() / std::max<int64_t>(channels, 1);
    RETURN_IF_ERROR(CheckGradArgs(ctx, channels, x.dtype()));
    const T* scale = ctx->input(2).data<T>();
    const T* mean = ctx->input(3).data<T>();
    const T* variance = ctx->input(4).data<T>();
    std::vector<double> inv(channels);
    for (int64_t c = 0; c < channels; ++c) inv[c] = 1 / std::sqrt(double(variance[c]) + epsilon);
    const T* dyp = dy.data<T>();
    const T* xp = x.data<T>();
    // sums[0] = sum dy, sums[1] = sum dy * xhat, with xhat = (x - mean) * inv.
    auto sums = ChannelSums<2>(rows, channels, pool, [&](int k, int64_t r, int64_t c) {
      const double g = dyp[r * channels + c];
      return k == 0 ? g : g * (xp[r * channels + c] - mean[c]) * inv[c];
    });
    // dx = a * dy + b * x + d per channel: training, scale * inv / n * (n dy - sum dy -
    // xhat * sum(dy xhat)); inference, scale * inv * dy.
    std::vector<T> a(channels), b(channels), d(channels);
    for (int64_t c = 0; c < channels; ++c) {
      const double k = scale[c] * inv[c];
      if (!training || rows == 0) {
        a[c] = static_cast<T>(k);
        continue;
      }
      const double slope = sums[1][c] * inv[c] / rows;  // multiplies (x - mean)
      a[c] = static_cast<T>(k);
      b[c] = static_cast<T>(-k * slope);
      d[c] = static_cast<T>(-k * (sums[0][c] / rows - slope * mean[c]));
    }
    Tensor* dx;
    RETURN_IF_ERROR(ctx->allocate_output(0, ctx->input(1).shape(), &dx));
    ComputeInNhwc(dx, nchw, pool, [&](Tensor* nhwc) {
      T* out = nhwc->data<T>();
      pool->ParallelFor(rows, channels * 3, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
          const T* g = dyp + r * channels;
          const T* xr = xp + r * channels;
          T* o = out + r * channels;
          for (int64_t c = 0; c < channels; ++c) o[c] = a[c] * g[c] + b[c] * xr[c] + d[c];
        }
      });
    });
    std::vector<T> dscale(channels), doffset(channels);
    for (int64_t c = 0; c < channels; ++c) {
      dscale[c] = static_cast<T>(sums[1][c]);
      doffset[c] = static_cast<T>(sums[0][c]);
    }
    RETURN_IF_ERROR(SetVector(ctx, 1, dscale));
    RETURN_IF_ERROR(SetVector(ctx, 2, doffset));
    RETURN_IF_ERROR(SetVector(ctx, 3, std::vector<T>()));
    return SetVector(ctx, 4, std::vector<T>());
  }
};

REGISTER_KERNEL_FOR_TYPES("FusedBatchNorm", kCpu, "T", FusedBatchNormOp, float, double);
REGISTER_KERNEL_FOR_TYPES("FusedBatchNormV2", kCpu, "T", FusedBatchNormOp, float, double);
REGISTER_KERNEL_FOR_TYPES("FusedBatchNormV3", kCpu, "T", FusedBatchNormOp, float, double);
REGISTER_KERNEL_FOR_TYPES("FusedBatchNormGrad", kCpu, "T", FusedBatchNormGradOp, float, double);
REGISTER_KERNEL_FOR_TYPES("FusedBatchNormGradV2", kCpu, "T", FusedBatchNormGradOp, float, double);
REGISTER_KERNEL_FOR_TYPES("FusedBatchNormGradV3", kCpu, "T", FusedBatchNormGradOp, float, double);

}  // namespace
}  // namespace runnel
