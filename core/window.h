// Geometry of TensorFlow's 2-D sliding-window ops (convolutions and pooling): their
// attributes read and checked once, and each spatial dimension's output size and padding,
// shared by the shape functions in ops/ and the kernels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/attr_value.h"

namespace runnel {

// One spatial dimension of a window op, after Window2D::Resolve.
struct WindowDim {
  int64_t input = 0, window = 1, stride = 1, dilation = 1;
  int64_t pad_before = 0, pad_after = 0, output = 0;

  int64_t EffectiveWindow() const { return (window - 1) * dilation + 1; }
};

struct Window2D {
  bool nchw = false;
  std::string padding;  // "SAME", "VALID" or "EXPLICIT"
  int64_t stride_h = 1, stride_w = 1, dilation_h = 1, dilation_w = 1;
  // Pooling's window size from ksize; convolutions take it from the filter.
  int64_t window_h = 1, window_w = 1;
  int64_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;  // EXPLICIT only

  // Reads padding and, where the op has them, data_format, strides, dilations,
  // explicit_paddings and ksize; fails on values TensorFlow rejects (strides, dilations or
  // windows that are not positive or that move along batch or channels).
  static absl::StatusOr<Window2D> FromAttrs(const AttrSlice& attrs);
  // For MaxPoolV2 and its gradient, whose ksize and strides are tensors.
  absl::Status SetPoolingWindow(const std::vector<int64_t>& ksize,
                                const std::vector<int64_t>& strides);

  // Axes of a rank-4 tensor in this data format.
  int batch_axis() const { return 0; }
  int height_axis() const { return nchw ? 2 : 1; }
  int width_axis() const { return nchw ? 3 : 2; }
  int channel_axis() const { return nchw ? 1 : 3; }

  // The geometry along the height (or width) for an input of size `input` and a window of
  // `window`; fails when the (dilated) window does not fit the padded input.
  absl::StatusOr<WindowDim> Height(int64_t input, int64_t window) const;
  absl::StatusOr<WindowDim> Width(int64_t input, int64_t window) const;

 private:
  absl::StatusOr<WindowDim> Resolve(const char* axis, int64_t input, int64_t window,
                                    int64_t stride, int64_t dilation, int64_t pad_before,
                                    int64_t pad_after) const;
};

}  // namespace runnel
