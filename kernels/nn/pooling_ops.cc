// MaxPool, AvgPool and their gradients (and MaxPoolV2's tensor-argument forms) on the CPU,
// in NHWC with the channels as the vectorized inner loop; NCHW goes through a transpose.
// Windows are spread over the pool by image, so a gradient's scatter never races.
#include <limits>
#include <vector>

#include "core/kernel_registry.h"
#include "core/threadpool.h"
#include "core/window.h"
#include "kernels/util/conv_util.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

// Calls fn(n, oh, ow, out_offset) for every output pixel, images spread over the pool.
template <typename Fn>
void ForEachOutputPixel(const PoolShape& s, ThreadPool* pool, Fn&& fn) {
  const int64_t per_image = s.rows.output * s.cols.output;
  pool->ParallelFor(s.batch, per_image * s.rows.window * s.cols.window * s.channels,
                    [&](int64_t begin, int64_t end) {
                      for (int64_t n = begin; n < end; ++n) {
                        for (int64_t oh = 0; oh < s.rows.output; ++oh) {
                          for (int64_t ow = 0; ow < s.cols.output; ++ow) {
                            fn(n, oh, ow, ((n * s.rows.output + oh) * s.cols.output + ow) *
                                              s.channels);
                          }
                        }
                      }
                    });
}

// Calls fn(input_offset) for each input pixel inside the window of (n, oh, ow).
template <typename Fn>
void ForEachInputPixel(const PoolShape& s, int64_t n, int64_t oh, int64_t ow, Fn&& fn) {
  ForEachWindowRow(s.rows, oh, [&](int64_t, int64_t ih) {
    if (ih < 0) return;
    ForEachWindowRow(s.cols, ow, [&](int64_t, int64_t iw) {
      if (iw >= 0) fn(((n * s.rows.input + ih) * s.cols.input + iw) * s.channels);
    });
  });
}

template <typename T>
void MaxPoolNhwc(const PoolShape& s, const T* in, T* out, ThreadPool* pool) {
  ForEachOutputPixel(s, pool, [&](int64_t n, int64_t oh, int64_t ow, int64_t o) {
    T* dst = out + o;
    std::fill(dst, dst + s.channels, std::numeric_limits<T>::lowest());
    ForEachInputPixel(s, n, oh, ow, [&](int64_t i) {
      const T* src = in + i;
      for (int64_t c = 0; c < s.channels; ++c) dst[c] = std::max(dst[c], src[c]);
    });
  });
}

// Whether the windows along `d` cover every input position exactly once (2x2 pooling with
// stride 2 of an even size, the common case).
bool Tiles(const WindowDim& d) {
  return d.stride == d.window && d.pad_before == 0 && d.output * d.window == d.input;
}

// Each window's gradient goes to the first input position (in row-major order) holding
// the window's maximum, as in TensorFlow. The running maximum and the index of its window
// position are kept per channel in 32-bit lanes without branches, so the channel loop
// vectorizes (random data would mispredict half of the branches). When the windows tile
// the input, each position is written once (the gradient or zero); otherwise the output is
// zeroed first and gradients are added.
template <typename T>
void MaxPoolGradNhwc(const PoolShape& s, const T* in, const T* grad, T* out, ThreadPool* pool) {
  const int64_t image = s.rows.input * s.cols.input * s.channels;
  const int64_t per_image = s.rows.output * s.cols.output * s.channels;
  const int64_t channels = s.channels;
  const bool tiles = Tiles(s.rows) && Tiles(s.cols);
  pool->ParallelFor(s.batch, per_image * s.rows.window * s.cols.window,
                    [&](int64_t begin, int64_t end) {
    std::vector<T> best(channels);
    std::vector<int32_t> winner(channels);
    std::vector<int64_t> offsets(s.rows.window * s.cols.window);
    if (!tiles) std::fill(out + begin * image, out + end * image, T(0));
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t oh = 0; oh < s.rows.output; ++oh) {
        for (int64_t ow = 0; ow < s.cols.output; ++ow) {
          int32_t count = 0;
          ForEachInputPixel(s, n, oh, ow, [&](int64_t i) { offsets[count++] = i; });
          if (count == 0) continue;  // the window holds only padding
          std::copy(in + offsets[0], in + offsets[0] + channels, best.begin());
          std::fill(winner.begin(), winner.end(), 0);
          T* b = best.data();
          int32_t* w = winner.data();
          for (int32_t q = 1; q < count; ++q) {
            const T* src = in + offsets[q];
            for (int64_t c = 0; c < channels; ++c) {
              const bool larger = src[c] > b[c];
              b[c] = larger ? src[c] : b[c];
              w[c] = larger ? q : w[c];
            }
          }
          const T* g = grad + ((n * s.rows.output + oh) * s.cols.output + ow) * channels;
          if (tiles) {
            for (int32_t q = 0; q < count; ++q) {
              T* dst = out + offsets[q];
              for (int64_t c = 0; c < channels; ++c) dst[c] = w[c] == q ? g[c] : T(0);
            }
          } else {
            for (int64_t c = 0; c < channels; ++c) out[offsets[w[c]] + c] += g[c];
          }
        }
      }
    }
  });
}

// The number of input pixels inside the window of (oh, ow): padding does not count.
int64_t WindowCount(const PoolShape& s, int64_t oh, int64_t ow) {
  int64_t rows = 0, cols = 0;
  ForEachWindowRow(s.rows, oh, [&](int64_t, int64_t i) { rows += i >= 0; });
  ForEachWindowRow(s.cols, ow, [&](int64_t, int64_t i) { cols += i >= 0; });
  return rows * cols;
}

template <typename T>
void AvgPoolNhwc(const PoolShape& s, const T* in, T* out, ThreadPool* pool) {
  ForEachOutputPixel(s, pool, [&](int64_t n, int64_t oh, int64_t ow, int64_t o) {
    T* dst = out + o;
    std::fill(dst, dst + s.channels, T(0));
    ForEachInputPixel(s, n, oh, ow, [&](int64_t i) {
      const T* src = in + i;
      for (int64_t c = 0; c < s.channels; ++c) dst[c] += src[c];
    });
    const T scale = T(1) / T(std::max<int64_t>(1, WindowCount(s, oh, ow)));
    for (int64_t c = 0; c < s.channels; ++c) dst[c] *= scale;
  });
}

template <typename T>
void AvgPoolGradNhwc(const PoolShape& s, const T* grad, T* out, ThreadPool* pool) {
  const int64_t image = s.rows.input * s.cols.input * s.channels;
  pool->ParallelFor(s.batch, s.rows.output * s.cols.output * s.channels * s.rows.window *
                                 s.cols.window,
                    [&](int64_t begin, int64_t end) {
    std::fill(out + begin * image, out + end * image, T(0));
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t oh = 0; oh < s.rows.output; ++oh) {
        for (int64_t ow = 0; ow < s.cols.output; ++ow) {
          const T* g = grad + ((n * s.rows.output + oh) * s.cols.output + ow) * s.channels;
          const T scale = T(1) / T(std::max<int64_t>(1, WindowCount(s, oh, ow)));
          ForEachInputPixel(s, n, oh, ow, [&](int64_t i) {
            T* dst = out + i;
            for (int64_t c = 0; c < s.channels; ++c) dst[c] += g[c] * scale;
          });
        }
      }
    }
  });
}

// The window of a pooling kernel: from attributes, or for the V2 forms from inputs
// `ksize_input` and `ksize_input + 1`.
absl::StatusOr<Window2D> PoolWindow(OpKernelContext* ctx, const Window2D& attrs,
                                    int ksize_input) {
  if (ksize_input < 0) return attrs;
  Window2D w = attrs;
  ASSIGN_OR_RETURN(std::vector<int64_t> ksize, IntValues(ctx->input(ksize_input), "ksize"));
  ASSIGN_OR_RETURN(std::vector<int64_t> strides,
                   IntValues(ctx->input(ksize_input + 1), "strides"));
  RETURN_IF_ERROR(w.SetPoolingWindow(ksize, strides));
  return w;
}

// MaxPool, MaxPoolV2 (kV2: ksize and strides are inputs 1 and 2) and AvgPool.
template <typename T, bool kMax, bool kV2>
class PoolOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Window2D w, PoolWindow(ctx, window_, kV2 ? 1 : -1));
    ASSIGN_OR_RETURN(Tensor in, ToNhwc(ctx->input(0), w.nchw, "input", ctx->thread_pool()));
    ASSIGN_OR_RETURN(PoolShape s, ResolvePool(w, in.shape()));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, FromNhwc(s.Output(), w.nchw), &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    ComputeInNhwc(out, w.nchw, ctx->thread_pool(), [&](Tensor* nhwc) {
      if (kMax) {
        MaxPoolNhwc(s, in.data<T>(), nhwc->data<T>(), ctx->thread_pool());
      } else {
        AvgPoolNhwc(s, in.data<T>(), nhwc->data<T>(), ctx->thread_pool());
      }
    });
    return absl::OkStatus();
  }
};

template <typename T, bool kV2>
class MaxPoolGradOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Window2D w, PoolWindow(ctx, window_, kV2 ? 3 : -1));
    ThreadPool* pool = ctx->thread_pool();
    ASSIGN_OR_RETURN(Tensor in, ToNhwc(ctx->input(0), w.nchw, "orig_input", pool));
    ASSIGN_OR_RETURN(PoolShape s, ResolvePool(w, in.shape()));
    ASSIGN_OR_RETURN(Tensor grad, ToNhwc(ctx->input(2), w.nchw, "grad", pool));
    RETURN_IF_ERROR(CheckShapeOf(grad, s.Output(), ctx->input(2), w.nchw, "grad",
                                 "the pooling's output"));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, ctx->input(0).shape(), &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    ComputeInNhwc(out, w.nchw, pool, [&](Tensor* nhwc) {
      MaxPoolGradNhwc(s, in.data<T>(), grad.data<T>(), nhwc->data<T>(), pool);
    });
    return absl::OkStatus();
  }
};

template <typename T>
class AvgPoolGradOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorShape in_shape, ShapeFromInput(ctx->input(0), "orig_input_shape"));
    ThreadPool* pool = ctx->thread_pool();
    ASSIGN_OR_RETURN(PoolShape s, ResolvePool(window_, ToNhwc(in_shape, window_.nchw)));
    ASSIGN_OR_RETURN(Tensor grad, ToNhwc(ctx->input(1), window_.nchw, "grad", pool));
    RETURN_IF_ERROR(CheckShapeOf(grad, s.Output(), ctx->input(1), window_.nchw, "grad",
                                 "the pooling's output"));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, in_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    ComputeInNhwc(out, window_.nchw, pool, [&](Tensor* nhwc) {
      AvgPoolGradNhwc(s, grad.data<T>(), nhwc->data<T>(), pool);
    });
    return absl::OkStatus();
  }
};

template <typename T>
using MaxPoolOp = PoolOp<T, true, false>;
template <typename T>
using MaxPoolV2Op = PoolOp<T, true, true>;
template <typename T>
using AvgPoolOp = PoolOp<T, false, false>;
template <typename T>
using MaxPoolGradV1Op = MaxPoolGradOp<T, false>;
template <typename T>
using MaxPoolGradV2Op = MaxPoolGradOp<T, true>;

REGISTER_KERNEL_FOR_TYPES("MaxPool", kCpu, "T", MaxPoolOp, float, double, int32_t, int64_t);
REGISTER_KERNEL_FOR_TYPES("MaxPoolV2", kCpu, "T", MaxPoolV2Op, float, double, int32_t, int64_t);
REGISTER_KERNEL_FOR_TYPES("AvgPool", kCpu, "T", AvgPoolOp, float, double);
REGISTER_KERNEL_FOR_TYPES("MaxPoolGrad", kCpu, "T", MaxPoolGradV1Op, float, double, int32_t,
                          int64_t);
REGISTER_KERNEL_FOR_TYPES("MaxPoolGradV2", kCpu, "T", MaxPoolGradV2Op, float, double, int32_t,
                          int64_t);
REGISTER_KERNEL_FOR_TYPES("AvgPoolGrad", kCpu, "T", AvgPoolGradOp, float, double);

}  // namespace
}  // namespace runnel
