// Float32 2-D convolutions through oneDNN's convolution primitives (direct JIT kernels),
// which beat im2col + GEMM (figures in tools/bench/README.md). Tensors
// are NHWC, filters HWIO (TensorFlow's layouts); the filter is reordered into the
// primitive's layout on each call. Work is split by image over Runnel's thread pool, each
// slice one single-threaded primitive, so no second threading runtime competes with the
// executor's. A batch smaller than the pool is declined (the caller falls back to im2col +
// GEMM, which splits one image over the pool): oneDNN's own OpenMP threads were slower
// there. Primitives are created on first use of a shape and kept.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "core/window.h"

namespace runnel {

class ThreadPool;

struct ConvGeometry {
  int64_t batch, in_h, in_w, in_c, out_h, out_w, out_c, window_h, window_w;
  int64_t stride_h, stride_w, dilation_h, dilation_w;
  int64_t pad_top, pad_bottom, pad_left, pad_right;

  ConvGeometry(int64_t batch, int64_t in_c, int64_t out_c, const WindowDim& rows,
               const WindowDim& cols)
      : batch(batch), in_h(rows.input), in_w(cols.input), in_c(in_c), out_h(rows.output),
        out_w(cols.output), out_c(out_c), window_h(rows.window), window_w(cols.window),
        stride_h(rows.stride), stride_w(cols.stride), dilation_h(rows.dilation),
        dilation_w(cols.dilation), pad_top(rows.pad_before), pad_bottom(rows.pad_after),
        pad_left(cols.pad_before), pad_right(cols.pad_after) {}
};

class OneDnnConv {
 public:
  OneDnnConv();
  ~OneDnnConv();

  // Each returns false, having written nothing, when oneDNN has no primitive for `g` or
  // the batch is smaller than the pool.
  // out = conv(in, filter)
  bool Forward(const ConvGeometry& g, const float* in, const float* filter, float* out,
               ThreadPool* pool);
  // d input from dy
  bool BackwardData(const ConvGeometry& g, const float* filter, const float* dy, float* din,
                    ThreadPool* pool);
  // d filter from input and dy
  bool BackwardWeights(const ConvGeometry& g, const float* in, const float* dy, float* dfilter,
                       ThreadPool* pool);

 private:
  struct Primitives;
  // The primitives for `g` with its batch replaced by `batch`.
  Primitives& For(const ConvGeometry& g, int64_t batch);
  Primitives& Prepare(const ConvGeometry& g, ThreadPool* pool);

  std::mutex mu_;
  // By (batch, input height, width, channels, output channels, window height, width).
  std::map<std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t>,
           std::unique_ptr<Primitives>>
      cache_;
};

}  // namespace runnel
