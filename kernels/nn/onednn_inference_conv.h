// Convolutions whose filter is a constant (frozen graphs), through oneDNN's forward-inference
// primitives: the filter is reordered into the primitive's layout once and kept, and the
// bias and activation of a fused op run inside the primitive while its output is in cache.
// Plain convolutions (groups 1) and depthwise ones (groups = input channels), NHWC.
//
// A batch of at least one image per pool thread is split by image, a smaller one into slabs
// of output rows (each reading the input rows under its window); each slice is a
// single-threaded primitive on a pool thread: faster than Runnel's own loops and, at batch
// 1, than im2col + GEMM, while oneDNN's own OpenMP team competes with the pool for the
// cores (figures in tools/bench/README.md).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

#include "kernels/util/fused_epilogue.h"
#include "kernels/nn/onednn_conv.h"

namespace runnel {

class ThreadPool;

class OneDnnInferenceConv {
 public:
  OneDnnInferenceConv();
  ~OneDnnInferenceConv();

  // out = conv(in, filter) followed by a fused kernel's `epilogue` (bias input 2 of `ctx`,
  // then its activation), or by nothing when it is null. The filter is HWIO (depthwise:
  // [H, W, C, 1]) and must hold the same values on every call. Returns false, having
  // written nothing, when oneDNN has only its reference code for `g`; an error for a bad
  // bias.
  absl::StatusOr<bool> Forward(OpKernelContext* ctx, const FusedEpilogue* epilogue,
                               const ConvGeometry& g, int64_t groups, const float* in,
                               const float* filter, float* out);

  struct Primitive;  // one oneDNN primitive and its memory layouts (defined in the .cc)

 private:
  struct Weights;
  bool Run(const ConvGeometry& g, int64_t groups, const float* in, const float* filter,
           const float* bias, Activation activation, float* out, ThreadPool* pool);
  // (batch, input height, width, channels, output channels, groups, bias, activation,
  // padding above, below)
  using Key = std::tuple<int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, bool, Activation,
                         int64_t, int64_t>;
  // The single-threaded primitive for `g` with the key's batch and input; null when
  // oneDNN has only reference code for it.
  Primitive* For(const ConvGeometry& g, const Key& key);
  // The filter in `p`'s layout, reordered on first use (entries are never dropped, so a
  // pointer handed out stays valid while other threads add entries).
  const float* WeightsFor(const Primitive& p, const float* filter);

  std::mutex mu_;
  std::map<Key, std::unique_ptr<Primitive>> primitives_;
  std::vector<std::unique_ptr<Weights>> weights_;
};

}  // namespace runnel
