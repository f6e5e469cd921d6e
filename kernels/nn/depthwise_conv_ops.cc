// DepthwiseConv2dNative and its two backprops on the CPU: each input channel c is
// convolved on its own with filter[:, :, c, m] into output channel c * M + m. Direct loops
// in NHWC with the channels innermost (contiguous in input, filter and output, so the
// compiler vectorizes them); NCHW goes through a transpose. Work is spread by image (by
// output row when there are fewer images than threads).
#include <type_traits>
#include <vector>

#include "core/kernel_registry.h"
#include "core/threadpool.h"
#include "core/window.h"
#include "kernels/util/conv_util.h"
#include "kernels/util/fused_epilogue.h"
#include "kernels/nn/onednn_inference_conv.h"

namespace runnel {
namespace {

struct DepthwiseShape {
  int64_t batch, in_c, multiplier;
  WindowDim rows, cols;

  int64_t OutC() const { return in_c * multiplier; }
  TensorShape Input() const { return {batch, rows.input, cols.input, in_c}; }
  TensorShape Output() const { return {batch, rows.output, cols.output, OutC()}; }
};

absl::StatusOr<DepthwiseShape> ResolveDepthwise(const Window2D& w, const TensorShape& input,
                                                const TensorShape& filter) {
  DepthwiseShape s;
  RETURN_IF_ERROR(ResolveConvWindow(w, input, filter, &s.rows, &s.cols));
  s.batch = input.dim_size(0);
  s.in_c = input.dim_size(3);
  s.multiplier = filter.dim_size(3);
  return s;
}

// acc[c * M + m] += src[c] * f[c * M + m] over the channels.
template <typename T>
inline void MultiplyAdd(const T* src, const T* f, int64_t channels, int64_t multiplier, T* acc) {
  if (multiplier == 1) {
    for (int64_t c = 0; c < channels; ++c) acc[c] += src[c] * f[c];
    return;
  }
  for (int64_t c = 0; c < channels; ++c) {
    for (int64_t m = 0; m < multiplier; ++m) acc[c * multiplier + m] += src[c] * f[c * multiplier + m];
  }
}

// Calls fn(n, oh) for every output row, spread over the pool.
template <typename Fn>
void ForEachOutputRow(const DepthwiseShape& s, ThreadPool* pool, Fn&& fn) {
  const int64_t rows = s.batch * s.rows.output;
  pool->ParallelFor(rows, s.cols.output * s.rows.window * s.cols.window * s.OutC(),
                    [&](int64_t begin, int64_t end) {
                      for (int64_t r = begin; r < end; ++r) fn(r / s.rows.output, r % s.rows.output);
                    });
}

// The output columns [first, last) whose window position at input offset `offset` (the
// input column is ow * stride + offset) falls inside the input.
inline void ColumnsInside(const WindowDim& d, int64_t offset, int64_t* first, int64_t* last) {
  *first = offset >= 0 ? 0 : (-offset + d.stride - 1) / d.stride;
  *last = d.input - 1 - offset >= 0 ? std::min(d.output, (d.input - 1 - offset) / d.stride + 1)
                                   : 0;
}

// One output row at a time: for each window position, the output columns it reaches are
// one run, so the inner loops are the channels of consecutive pixels with no per-pixel
// bounds checks.
template <typename T>
void DepthwiseForward(const DepthwiseShape& s, const T* in, const T* filter, T* out,
                      ThreadPool* pool) {
  const int64_t oc = s.OutC(), c = s.in_c;
  ForEachOutputRow(s, pool, [&](int64_t n, int64_t oh) {
    T* row = out + (n * s.rows.output + oh) * s.cols.output * oc;
    std::fill(row, row + s.cols.output * oc, T(0));
    ForEachWindowRow(s.rows, oh, [&](int64_t kh, int64_t ih) {
      if (ih < 0) return;
      const T* in_row = in + (n * s.rows.input + ih) * s.cols.input * c;
      for (int64_t kw = 0; kw < s.cols.window; ++kw) {
        const T* f = filter + (kh * s.cols.window + kw) * oc;
        const int64_t offset = kw * s.cols.dilation - s.cols.pad_before;
        int64_t first, last;
        ColumnsInside(s.cols, offset, &first, &last);
        for (int64_t ow = first; ow < last; ++ow) {
          MultiplyAdd(in_row + (ow * s.cols.stride + offset) * c, f, c, s.multiplier,
                      row + ow * oc);
        }
      }
    });
  });
}

// d input: each output pixel's gradient flows back through its window; by image, so no
// two threads add into the same pixels.
template <typename T>
void DepthwiseBackpropInput(const DepthwiseShape& s, const T* filter, const T* dy, T* din,
                            ThreadPool* pool) {
  const int64_t oc = s.OutC(), image = s.rows.input * s.cols.input * s.in_c;
  pool->ParallelFor(s.batch, s.rows.output * s.cols.output * s.rows.window * s.cols.window * oc,
                    [&](int64_t begin, int64_t end) {
    std::fill(din + begin * image, din + end * image, T(0));
    for (int64_t n = begin; n < end; ++n) {
      for (int64_t oh = 0; oh < s.rows.output; ++oh) {
        for (int64_t ow = 0; ow < s.cols.output; ++ow) {
          const T* g = dy + ((n * s.rows.output + oh) * s.cols.output + ow) * oc;
          ForEachWindowRow(s.rows, oh, [&](int64_t kh, int64_t ih) {
            if (ih < 0) return;
            ForEachWindowRow(s.cols, ow, [&](int64_t kw, int64_t iw) {
              if (iw < 0) return;
              T* dst = din + ((n * s.rows.input + ih) * s.cols.input + iw) * s.in_c;
              const T* f = filter + (kh * s.cols.window + kw) * oc;
              for (int64_t c = 0; c < s.in_c; ++c) {
                T sum = 0;
                for (int64_t m = 0; m < s.multiplier; ++m) {
                  sum += g[c * s.multiplier + m] * f[c * s.multiplier + m];
                }
                dst[c] += sum;
              }
            });
          });
        }
      }
    }
  });
}

// d filter[kh, kw, c, m] = sum over output pixels of input * dy; each thread sums a share
// of the images into its own partial.
template <typename T>
void DepthwiseBackpropFilter(const DepthwiseShape& s, const T* in, const T* dy, T* df,
                             ThreadPool* pool) {
  const int64_t oc = s.OutC(), size = s.rows.window * s.cols.window * oc;
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(pool->NumThreads(), s.batch));
  std::vector<T> partials((parts - 1) * size);
  pool->ParallelFor(parts, s.batch / parts * s.rows.output * s.cols.output * size,
                    [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) {
      T* sum = part == 0 ? df : partials.data() + (part - 1) * size;
      std::fill(sum, sum + size, T(0));
      for (int64_t n = s.batch * part / parts; n < s.batch * (part + 1) / parts; ++n) {
        for (int64_t oh = 0; oh < s.rows.output; ++oh) {
          for (int64_t ow = 0; ow < s.cols.output; ++ow) {
            const T* g = dy + ((n * s.rows.output + oh) * s.cols.output + ow) * oc;
            ForEachWindowRow(s.rows, oh, [&](int64_t kh, int64_t ih) {
              if (ih < 0) return;
              ForEachWindowRow(s.cols, ow, [&](int64_t kw, int64_t iw) {
                if (iw < 0) return;
                MultiplyAdd(in + ((n * s.rows.input + ih) * s.cols.input + iw) * s.in_c, g,
                            s.in_c, s.multiplier, sum + (kh * s.cols.window + kw) * oc);
              });
            });
          }
        }
      }
    }
  });
  for (int64_t part = 1; part < parts; ++part) {
    const T* p = partials.data() + (part - 1) * size;
    for (int64_t j = 0; j < size; ++j) df[j] += p[j];
  }
}

template <typename T>
class DepthwiseConv2dOp : public WindowKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    filter_is_constant_ = ctx->input_is_constant(1);
    return WindowKernel::Init(ctx);
  }
  absl::Status Compute(OpKernelContext* ctx) override { return ComputeFused(ctx, nullptr); }
  // The convolution, then `epilogue` (bias input 2) when given.
  absl::Status ComputeFused(OpKernelContext* ctx, const FusedEpilogue* epilogue) {
    ThreadPool* pool = ctx->thread_pool();
    const Tensor& filter = ctx->input(1);
    ASSIGN_OR_RETURN(Tensor in, ToNhwc(ctx->input(0), window_.nchw, "input", pool));
    ASSIGN_OR_RETURN(DepthwiseShape s, ResolveDepthwise(window_, in.shape(), filter.shape()));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, FromNhwc(s.Output(), window_.nchw), &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    if constexpr (std::is_same_v<T, float>) {
      if (filter_is_constant_ && !window_.nchw && s.multiplier == 1) {
        const ConvGeometry g(s.batch, s.in_c, s.OutC(), s.rows, s.cols);
        ASSIGN_OR_RETURN(bool done,
                         inference_.Forward(ctx, epilogue, g, /*groups=*/s.in_c,
                                            in.data<float>(), filter.data<float>(),
                                            out->data<float>()));
        if (done) return absl::OkStatus();
      }
    }
    ComputeInNhwc(out, window_.nchw, pool, [&](Tensor* nhwc) {
      DepthwiseForward(s, in.data<T>(), filter.data<T>(), nhwc->data<T>(), pool);
    });
    return epilogue ? epilogue->Apply<T>(ctx, 2) : absl::OkStatus();
  }

 private:
  bool filter_is_constant_ = false;
  OneDnnInferenceConv inference_;  // for a constant filter
};

template <typename T>
class DepthwiseBackpropInputOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ThreadPool* pool = ctx->thread_pool();
    ASSIGN_OR_RETURN(TensorShape in_shape, ShapeFromInput(ctx->input(0), "input_sizes"));
    const Tensor& filter = ctx->input(1);
    ASSIGN_OR_RETURN(DepthwiseShape s, ResolveDepthwise(window_, ToNhwc(in_shape, window_.nchw),
                                                        filter.shape()));
    ASSIGN_OR_RETURN(Tensor dy, ToNhwc(ctx->input(2), window_.nchw, "out_backprop", pool));
    RETURN_IF_ERROR(CheckShapeOf(dy, s.Output(), ctx->input(2), window_.nchw, "out_backprop",
                                 "the convolution's output"));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, in_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    ComputeInNhwc(out, window_.nchw, pool, [&](Tensor* nhwc) {
      DepthwiseBackpropInput(s, filter.data<T>(), dy.data<T>(), nhwc->data<T>(), pool);
    });
    return absl::OkStatus();
  }
};

template <typename T>
class DepthwiseBackpropFilterOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ThreadPool* pool = ctx->thread_pool();
    ASSIGN_OR_RETURN(TensorShape filter_shape, ShapeFromInput(ctx->input(1), "filter_sizes"));
    ASSIGN_OR_RETURN(Tensor in, ToNhwc(ctx->input(0), window_.nchw, "input", pool));
    ASSIGN_OR_RETURN(DepthwiseShape s, ResolveDepthwise(window_, in.shape(), filter_shape));
    ASSIGN_OR_RETURN(Tensor dy, ToNhwc(ctx->input(2), window_.nchw, "out_backprop", pool));
    RETURN_IF_ERROR(CheckShapeOf(dy, s.Output(), ctx->input(2), window_.nchw, "out_backprop",
                                 "the convolution's output"));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, filter_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    DepthwiseBackpropFilter(s, in.data<T>(), dy.data<T>(), out->data<T>(), pool);
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("DepthwiseConv2dNative", kCpu, "T", DepthwiseConv2dOp, float, double);
REGISTER_KERNEL_FOR_TYPES("DepthwiseConv2dNativeBackpropInput", kCpu, "T",
                          DepthwiseBackpropInputOp, float, double);
REGISTER_KERNEL_FOR_TYPES("DepthwiseConv2dNativeBackpropFilter", kCpu, "T",
                          DepthwiseBackpropFilterOp, float, double);

template <typename T>
using FusedDepthwiseConv2dNativeOp = Fused<DepthwiseConv2dOp<T>, T>;
REGISTER_KERNEL_FOR_TYPES("_FusedDepthwiseConv2dNative", kCpu, "T", FusedDepthwiseConv2dNativeOp, float);

}  // namespace
}  // namespace runnel
