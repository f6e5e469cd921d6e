// Conv2D and its two backprops on the CPU, as im2col + GEMM (kernels/util/gemm.h): the
// output pixels' input patches are copied, a chunk of rows at a time, into a matrix whose
// rows match the filter's [KH*KW*C, M] layout, and one GEMM per chunk does the arithmetic.
// A 1x1 convolution with stride 1 and no padding needs no copy: its input already is that
// matrix. Chunks are sized to stay in the core's L2 cache and spread over the thread pool,
// each chunk's GEMM on one thread. NCHW tensors are transposed to NHWC and back.
// tools/bench/README.md has the measurements behind this choice.
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/kernel_registry.h"
#include "core/threadpool.h"
#include "core/window.h"
#include "kernels/util/conv_util.h"
#include "kernels/util/fused_epilogue.h"
#include "kernels/nn/onednn_conv.h"
#include "kernels/nn/onednn_inference_conv.h"
#include "kernels/util/gemm.h"

namespace runnel {
namespace {

// Bytes of patch matrix per chunk: the chunk and the GEMM's packed panels share L2.
constexpr int64_t kChunkBytes = 192 << 10;
constexpr int64_t kFilterChunkBytes = 768 << 10;

// The shapes of one convolution, NHWC, filter [KH, KW, C, M].
struct ConvShape {
  int64_t batch, in_c, out_c;
  WindowDim rows, cols;  // along height and width

  int64_t PatchSize() const { return rows.window * cols.window * in_c; }
  int64_t OutputPixels() const { return batch * rows.output * cols.output; }
  TensorShape Output() const { return {batch, rows.output, cols.output, out_c}; }
  TensorShape Input() const { return {batch, rows.input, cols.input, in_c}; }
  // A 1x1 window with stride 1 and no padding: the input is the patch matrix.
  bool Pointwise() const {
    return rows.window == 1 && cols.window == 1 && rows.stride == 1 && cols.stride == 1 &&
           rows.pad_before == 0 && cols.pad_before == 0 && rows.output == rows.input &&
           cols.output == cols.input;
  }
  // Rows of patches per chunk: `bytes` of them, at least 8.
  int64_t ChunkRows(size_t element_bytes, int64_t bytes = kChunkBytes) const {
    return std::max<int64_t>(8, bytes / (PatchSize() * static_cast<int64_t>(element_bytes)));
  }
};

// `input` and `filter` are the NHWC input's and the filter's shapes.
absl::StatusOr<ConvShape> ResolveConv(const Window2D& w, const TensorShape& input,
                                      const TensorShape& filter) {
  ConvShape s;
  RETURN_IF_ERROR(ResolveConvWindow(w, input, filter, &s.rows, &s.cols));
  s.batch = input.dim_size(0);
  s.in_c = input.dim_size(3);
  s.out_c = filter.dim_size(3);
  return s;
}

// Copies `count` elements; a plain loop for short runs (a first layer's few channels),
// where calling memcpy costs more than the copy.
template <typename T>
inline void CopyRun(const T* src, int64_t count, T* dst) {
  if (count <= 16) {
    for (int64_t j = 0; j < count; ++j) dst[j] = src[j];
  } else {
    std::memcpy(dst, src, count * sizeof(T));
  }
}

template <typename T>
inline void ZeroRun(int64_t count, T* dst) {
  if (count <= 16) {
    for (int64_t j = 0; j < count; ++j) dst[j] = T(0);
  } else {
    std::memset(dst, 0, count * sizeof(T));
  }
}

// Copies the patches of output pixels [first, first + count) into `col`, one row of
// PatchSize() each, zeros where the window hangs over the padding. Pixels are walked in
// order (no division per pixel), and a window row that lies inside the input is one copy.
template <typename T>
void Im2Col(const ConvShape& s, const T* in, int64_t first, int64_t count, T* col) {
  const int64_t c = s.in_c, k = s.PatchSize(), row_len = s.cols.window * c;
  int64_t ow = first % s.cols.output;
  int64_t oh = (first / s.cols.output) % s.rows.output;
  int64_t n = first / (s.cols.output * s.rows.output);
  for (int64_t r = 0; r < count; ++r) {
    T* dst = col + r * k;
    const int64_t w0 = ow * s.cols.stride - s.cols.pad_before;
    const bool inside = s.cols.dilation == 1 && w0 >= 0 && w0 + s.cols.window <= s.cols.input;
    ForEachWindowRow(s.rows, oh, [&](int64_t kh, int64_t ih) {
      T* row = dst + kh * row_len;
      if (ih < 0) {
        ZeroRun(row_len, row);
        return;
      }
      const T* src = in + ((n * s.rows.input + ih) * s.cols.input) * c;
      if (inside) {
        CopyRun(src + w0 * c, row_len, row);
        return;
      }
      ForEachWindowSpan(s.cols, ow, [&](int64_t kw, int64_t iw, int64_t len) {
        if (iw < 0) {
          ZeroRun(len * c, row + kw * c);
        } else {
          CopyRun(src + iw * c, len * c, row + kw * c);
        }
      });
    });
    if (++ow == s.cols.output) {
      ow = 0;
      if (++oh == s.rows.output) {
        oh = 0;
        ++n;
      }
    }
  }
}

// The adjoint of Im2Col: adds each patch row back onto the input positions it came from.
template <typename T>
void Col2ImAdd(const ConvShape& s, const T* col, int64_t first, int64_t count, T* in) {
  const int64_t c = s.in_c, k = s.PatchSize();
  for (int64_t r = 0; r < count; ++r) {
    const int64_t pixel = first + r;
    const int64_t ow = pixel % s.cols.output;
    const int64_t oh = (pixel / s.cols.output) % s.rows.output;
    const int64_t n = pixel / (s.cols.output * s.rows.output);
    const T* src = col + r * k;
    ForEachWindowRow(s.rows, oh, [&](int64_t kh, int64_t ih) {
      if (ih < 0) return;
      const T* row = src + kh * s.cols.window * c;
      T* dst = in + ((n * s.rows.input + ih) * s.cols.input) * c;
      ForEachWindowSpan(s.cols, ow, [&](int64_t kw, int64_t iw, int64_t len) {
        if (iw < 0) return;
        T* d = dst + iw * c;
        const T* p = row + kw * c;
        for (int64_t j = 0; j < len * c; ++j) d[j] += p[j];
      });
    });
  }
}

template <typename T>
T* Scratch(int64_t elements) {
  thread_local std::vector<T> buffer;
  if (static_cast<int64_t>(buffer.size()) < elements) buffer.resize(elements);
  return buffer.data();
}

// out [pixels, M] = patches [pixels, K] x filter [K, M].
template <typename T>
void ConvForward(const ConvShape& s, const T* in, const T* filter, T* out, ThreadPool* pool) {
  const int64_t k = s.PatchSize(), m = s.out_c, pixels = s.OutputPixels();
  if (s.Pointwise()) {
    Gemm(Dense(in, pixels, k), Dense(filter, k, m), out, /*accumulate=*/false, pool);
    return;
  }
  const int64_t chunk = s.ChunkRows(sizeof(T));
  const int64_t chunks = (pixels + chunk - 1) / chunk;
  pool->ParallelFor(chunks, chunk * k * m, [&](int64_t begin, int64_t end) {
    T* col = Scratch<T>(chunk * k);
    for (int64_t i = begin; i < end; ++i) {
      const int64_t first = i * chunk, count = std::min(chunk, pixels - first);
      Im2Col(s, in, first, count, col);
      Gemm(Dense(col, count, k), Dense(filter, k, m), out + first * m, false, nullptr);
    }
  });
}

// d filter [K, M] = patches^T x dy, summed over all output pixels: each thread sums its
// share of the pixels into its own partial, and the partials are added at the end.
template <typename T>
void ConvBackpropFilter(const ConvShape& s, const T* in, const T* dy, T* dfilter,
                        ThreadPool* pool) {
  const int64_t k = s.PatchSize(), m = s.out_c, pixels = s.OutputPixels();
  if (s.Pointwise()) {
    Gemm(Dense(in, pixels, k, /*transposed=*/true), Dense(dy, pixels, m), dfilter, false, pool);
    return;
  }
  // Longer chunks: each one's GEMM sums over its rows, and short sums waste the GEMM.
  const int64_t chunk = s.ChunkRows(sizeof(T), kFilterChunkBytes);
  const int64_t chunks = (pixels + chunk - 1) / chunk;
  const int64_t parts = std::min<int64_t>(pool->NumThreads(), chunks);
  // Each part sums dy^T x patches ([M, K]: the GEMM's wide side is the patch), and the
  // parts' sums are added and transposed into d filter at the end.
  std::vector<T> partials(parts * k * m);
  pool->ParallelFor(parts, chunks / parts * chunk * k * m, [&](int64_t begin, int64_t end) {
    T* col = Scratch<T>(chunk * k);
    for (int64_t part = begin; part < end; ++part) {
      T* sum = partials.data() + part * k * m;
      const int64_t first_chunk = chunks * part / parts, last_chunk = chunks * (part + 1) / parts;
      for (int64_t i = first_chunk; i < last_chunk; ++i) {
        const int64_t first = i * chunk, count = std::min(chunk, pixels - first);
        Im2Col(s, in, first, count, col);
        Gemm(Dense(dy + first * m, count, m, /*transposed=*/true), Dense(col, count, k), sum,
             /*accumulate=*/i != first_chunk, nullptr);
      }
    }
  });
  for (int64_t row = 0; row < k; ++row) {
    for (int64_t c = 0; c < m; ++c) {
      T total = 0;
      for (int64_t part = 0; part < parts; ++part) total += partials[(part * m + c) * k + row];
      dfilter[row * m + c] = total;
    }
  }
}

// With stride 1, d input is itself a convolution: of dy, padded so that every input
// pixel sees each output pixel its window touched, with the filter turned 180 degrees and
// its channel dims swapped. That keeps the GEMM's inner dimension KH*KW*M (1600 for a 5x5,
// 64-channel layer) instead of M, and needs no scatter. False (nothing done) when the
// stride is not 1 or explicit padding exceeds the window.
template <typename T>
bool ConvBackpropInputAsConv(const ConvShape& s, const T* filter, const T* dy, T* din,
                             ThreadPool* pool) {
  auto flipped = [](const WindowDim& d) {
    WindowDim f = d;
    f.input = d.output;
    f.output = d.input;
    f.pad_before = d.EffectiveWindow() - 1 - d.pad_before;
    f.pad_after = d.EffectiveWindow() - 1 - d.pad_after;
    return f;
  };
  if (s.rows.stride != 1 || s.cols.stride != 1) return false;
  ConvShape t;
  t.batch = s.batch;
  t.in_c = s.out_c;
  t.out_c = s.in_c;
  t.rows = flipped(s.rows);
  t.cols = flipped(s.cols);
  if (std::min({t.rows.pad_before, t.rows.pad_after, t.cols.pad_before, t.cols.pad_after}) < 0) {
    return false;
  }
  // g[kh, kw, m, c] = filter[KH-1-kh, KW-1-kw, c, m]
  const int64_t kh = s.rows.window, kw = s.cols.window, c = s.in_c, m = s.out_c;
  std::vector<T> g(kh * kw * c * m);
  for (int64_t i = 0; i < kh; ++i) {
    for (int64_t j = 0; j < kw; ++j) {
      const T* src = filter + ((kh - 1 - i) * kw + (kw - 1 - j)) * c * m;
      T* dst = g.data() + (i * kw + j) * m * c;
      for (int64_t ci = 0; ci < c; ++ci) {
        for (int64_t mi = 0; mi < m; ++mi) dst[mi * c + ci] = src[ci * m + mi];
      }
    }
  }
  ConvForward(t, dy, g.data(), din, pool);
  return true;
}

// d input = col2im(dy [pixels, M] x filter^T [M, K]), one image per task so that no two
// threads add into the same input pixels.
template <typename T>
void ConvBackpropInput(const ConvShape& s, const T* filter, const T* dy, T* din,
                       ThreadPool* pool) {
  const int64_t k = s.PatchSize(), m = s.out_c, pixels = s.OutputPixels();
  if (s.Pointwise()) {
    Gemm(Dense(dy, pixels, m), Dense(filter, k, m, /*transposed=*/true), din, false, pool);
    return;
  }
  if (ConvBackpropInputAsConv(s, filter, dy, din, pool)) return;
  const int64_t per_image = s.rows.output * s.cols.output;
  const int64_t image_size = s.rows.input * s.cols.input * s.in_c;
  const int64_t chunk = std::min(s.ChunkRows(sizeof(T)), per_image);
  pool->ParallelFor(s.batch, per_image * k * m, [&](int64_t begin, int64_t end) {
    T* col = Scratch<T>(chunk * k);
    for (int64_t n = begin; n < end; ++n) {
      std::fill(din + n * image_size, din + (n + 1) * image_size, T(0));
      for (int64_t first = n * per_image; first < (n + 1) * per_image; first += chunk) {
        const int64_t count = std::min(chunk, (n + 1) * per_image - first);
        Gemm(Dense(dy + first * m, count, m), Dense(filter, k, m, /*transposed=*/true), col,
             false, nullptr);
        Col2ImAdd(s, col, first, count, din);
      }
    }
  });
}

ConvGeometry Geometry(const ConvShape& s) {
  return ConvGeometry(s.batch, s.in_c, s.out_c, s.rows, s.cols);
}

// float convolutions go to oneDNN's primitives where they take the geometry; the rest
// (and double) to im2col + GEMM.
template <typename T>
void Forward(OneDnnConv* onednn, const ConvShape& s, const T* in, const T* filter, T* out,
             ThreadPool* pool) {
  if constexpr (std::is_same_v<T, float>) {
    if (onednn->Forward(Geometry(s), in, filter, out, pool)) return;
  }
  ConvForward(s, in, filter, out, pool);
}

template <typename T>
void BackpropInput(OneDnnConv* onednn, const ConvShape& s, const T* filter, const T* dy, T* din,
                   ThreadPool* pool) {
  if constexpr (std::is_same_v<T, float>) {
    if (onednn->BackwardData(Geometry(s), filter, dy, din, pool)) return;
  }
  ConvBackpropInput(s, filter, dy, din, pool);
}

template <typename T>
void BackpropFilter(OneDnnConv* onednn, const ConvShape& s, const T* in, const T* dy, T* df,
                    ThreadPool* pool) {
  if constexpr (std::is_same_v<T, float>) {
    if (onednn->BackwardWeights(Geometry(s), in, dy, df, pool)) return;
  }
  ConvBackpropFilter(s, in, dy, df, pool);
}

template <typename T>
class Conv2DOp : public WindowKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    filter_is_constant_ = ctx->input_is_constant(1);
    return WindowKernel::Init(ctx);
  }
  absl::Status Compute(OpKernelContext* ctx) override { return ComputeFused(ctx, nullptr); }
  // The convolution, then `epilogue` (bias input 2) when given.
  absl::Status ComputeFused(OpKernelContext* ctx, const FusedEpilogue* epilogue) {
    const Tensor& filter = ctx->input(1);
    ASSIGN_OR_RETURN(Tensor in, ToNhwc(ctx->input(0), window_.nchw, "input", ctx->thread_pool()));
    ASSIGN_OR_RETURN(ConvShape s, ResolveConv(window_, in.shape(), filter.shape()));
    Tensor* out;
    RETURN_IF_ERROR(
        ctx->allocate_output(0, FromNhwc(s.Output(), window_.nchw), &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    if constexpr (std::is_same_v<T, float>) {
      if (filter_is_constant_ && !window_.nchw && s.PatchSize() > 0) {
        ASSIGN_OR_RETURN(bool done,
                         inference_.Forward(ctx, epilogue, Geometry(s), /*groups=*/1,
                                            in.data<float>(), filter.data<float>(),
                                            out->data<float>()));
        if (done) return absl::OkStatus();
      }
    }
    if (s.PatchSize() == 0) {
      std::fill(out->data<T>(), out->data<T>() + out->NumElements(), T(0));
    } else {
      ComputeInNhwc(out, window_.nchw, ctx->thread_pool(), [&](Tensor* nhwc) {
        Forward(&onednn_, s, in.data<T>(), filter.data<T>(), nhwc->data<T>(), ctx->thread_pool());
      });
    }
    return epilogue ? epilogue->Apply<T>(ctx, 2) : absl::OkStatus();
  }

 private:
  OneDnnConv onednn_;
  bool filter_is_constant_ = false;
  OneDnnInferenceConv inference_;  // for a constant filter
};

template <typename T>
class Conv2DBackpropInputOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorShape in_shape, ShapeFromInput(ctx->input(0), "input_sizes"));
    const Tensor& filter = ctx->input(1);
    ASSIGN_OR_RETURN(ConvShape s, ResolveConv(window_, ToNhwc(in_shape, window_.nchw),
                                              filter.shape()));
    ASSIGN_OR_RETURN(Tensor dy, ToNhwc(ctx->input(2), window_.nchw, "out_backprop",
                                       ctx->thread_pool()));
    RETURN_IF_ERROR(CheckShapeOf(dy, s.Output(), ctx->input(2), window_.nchw, "out_backprop",
                                 "the convolution's output"));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, in_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    if (dy.NumElements() == 0 || s.PatchSize() == 0) {
      std::fill(out->data<T>(), out->data<T>() + out->NumElements(), T(0));
      return absl::OkStatus();
    }
    ComputeInNhwc(out, window_.nchw, ctx->thread_pool(), [&](Tensor* nhwc) {
      BackpropInput(&onednn_, s, filter.data<T>(), dy.data<T>(), nhwc->data<T>(),
                    ctx->thread_pool());
    });
    return absl::OkStatus();
  }

 private:
  OneDnnConv onednn_;
};

template <typename T>
class Conv2DBackpropFilterOp : public WindowKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorShape filter_shape, ShapeFromInput(ctx->input(1), "filter_sizes"));
    ASSIGN_OR_RETURN(Tensor in, ToNhwc(ctx->input(0), window_.nchw, "input", ctx->thread_pool()));
    ASSIGN_OR_RETURN(ConvShape s, ResolveConv(window_, in.shape(), filter_shape));
    ASSIGN_OR_RETURN(Tensor dy, ToNhwc(ctx->input(2), window_.nchw, "out_backprop",
                                       ctx->thread_pool()));
    RETURN_IF_ERROR(CheckShapeOf(dy, s.Output(), ctx->input(2), window_.nchw, "out_backprop",
                                 "the convolution's output"));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, filter_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    if (s.OutputPixels() == 0) {
      std::fill(out->data<T>(), out->data<T>() + out->NumElements(), T(0));
      return absl::OkStatus();
    }
    BackpropFilter(&onednn_, s, in.data<T>(), dy.data<T>(), out->data<T>(), ctx->thread_pool());
    return absl::OkStatus();
  }

 private:
  OneDnnConv onednn_;
};

REGISTER_KERNEL_FOR_TYPES("Conv2D", kCpu, "T", Conv2DOp, float, double);
REGISTER_KERNEL_FOR_TYPES("Conv2DBackpropInput", kCpu, "T", Conv2DBackpropInputOp, float,
                          double);
REGISTER_KERNEL_FOR_TYPES("Conv2DBackpropFilter", kCpu, "T", Conv2DBackpropFilterOp, float,
                          double);

template <typename T>
using FusedConv2DOp = Fused<Conv2DOp<T>, T>;
REGISTER_KERNEL_FOR_TYPES("_FusedConv2D", kCpu, "T", FusedConv2DOp, float);

}  // namespace
}  // namespace runnel
