// Shared by the window kernels (convolutions, pooling): walking one window's positions
// along a spatial dimension, and moving rank-4 tensors between NCHW and NHWC (the kernels
// compute in NHWC).
#pragma once

#include <algorithm>
#include <cstdint>

#include <functional>

#include "absl/status/statusor.h"
#include "core/op_kernel.h"
#include "core/tensor.h"
#include "core/window.h"

namespace runnel {

class ThreadPool;

// Calls fn(k, i) for each window position k of output position `o`, with i the input
// position it covers, or -1 where it covers padding.
template <typename Fn>
void ForEachWindowRow(const WindowDim& d, int64_t o, Fn&& fn) {
  const int64_t start = o * d.stride - d.pad_before;
  for (int64_t k = 0; k < d.window; ++k) {
    const int64_t i = start + k * d.dilation;
    fn(k, i >= 0 && i < d.input ? i : -1);
  }
}

// Like ForEachWindowRow but in runs: fn(k, i, len) for window positions [k, k + len),
// which cover input positions [i, i + len) (consecutive without dilation), or padding
// when i is -1.
template <typename Fn>
void ForEachWindowSpan(const WindowDim& d, int64_t o, Fn&& fn) {
  const int64_t start = o * d.stride - d.pad_before;
  if (d.dilation != 1) {
    ForEachWindowRow(d, o, [&](int64_t k, int64_t i) { fn(k, i, 1); });
    return;
  }
  const int64_t lo = std::clamp<int64_t>(-start, 0, d.window);
  const int64_t hi = std::clamp<int64_t>(d.input - start, lo, d.window);
  if (lo > 0) fn(0, -1, lo);
  if (hi > lo) fn(lo, start + lo, hi - lo);
  if (hi < d.window) fn(hi, -1, d.window - hi);
}

// Checks a convolution's NHWC input against its filter [KH, KW, C, M] (4-D, channels
// matching) and resolves the geometry along height and width.
absl::Status ResolveConvWindow(const Window2D& w, const TensorShape& nhwc_input,
                               const TensorShape& filter, WindowDim* rows, WindowDim* cols);

// A 2-D pooling over an NHWC input.
struct PoolShape {
  int64_t batch, channels;
  WindowDim rows, cols;

  TensorShape Input() const { return {batch, rows.input, cols.input, channels}; }
  TensorShape Output() const { return {batch, rows.output, cols.output, channels}; }
};

// The pooling geometry of `w` (its window from ksize) over an NHWC input; fails when a
// window could hold only padding.
absl::StatusOr<PoolShape> ResolvePool(const Window2D& w, const TensorShape& nhwc_input);

// The NHWC shape of a shape in `nchw` format (unchanged when it is NHWC already), and back.
TensorShape ToNhwc(const TensorShape& shape, bool nchw);
TensorShape FromNhwc(const TensorShape& nhwc, bool nchw);

// `t` as an NHWC tensor: itself when it is NHWC, a transposed copy when `nchw`. Fails
// unless t is 4-D, naming it `what`.
absl::StatusOr<Tensor> ToNhwc(const Tensor& t, bool nchw, const char* what, ThreadPool* pool);

// A 4-D shape held in a 4-element int32/int64 tensor (input_sizes, filter_sizes,
// orig_input_shape), named `what` in errors.
absl::StatusOr<TensorShape> ShapeFromInput(const Tensor& t, const char* what);

// Writes the NHWC tensor `nhwc` into the NCHW tensor `out` (of the matching shape).
void NhwcToNchw(const Tensor& nhwc, Tensor* out, ThreadPool* pool);

// Runs `compute`, which writes an NHWC result, so that `out` ends up holding it: on `out`
// itself when it is NHWC, else on a temporary transposed into `out` afterwards.
void ComputeInNhwc(Tensor* out, bool nchw, ThreadPool* pool,
                   const std::function<void(Tensor* nhwc)>& compute);

// Fails unless `nhwc` (the NHWC form of input `given`, named `name`) has the shape
// `expected` (NHWC) of `what`; the message shows shapes in the op's data format.
absl::Status CheckShapeOf(const Tensor& nhwc, const TensorShape& expected, const Tensor& given,
                          bool nchw, const char* name, const char* what);

// A kernel of a 2-D window op: reads the window's attributes (core/window.h) once.
class WindowKernel : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override;

 protected:
  Window2D window_;
};

}  // namespace runnel
