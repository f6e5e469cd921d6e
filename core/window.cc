#include "core/window.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"

namespace runnel {
namespace {

// Checks a 4-element list in data-format order (batch and channel entries 1, spatial ones
// positive) and returns its spatial entries.
absl::Status SpatialPair(const std::vector<int64_t>& v, const char* name, bool nchw,
                         int64_t* h, int64_t* w) {
  if (v.size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must have 4 elements (one per dimension), got [",
                     absl::StrJoin(v, ","), "]"));
  }
  const int hi = nchw ? 2 : 1, wi = nchw ? 3 : 2, ci = nchw ? 1 : 3;
  if (v[0] != 1 || v[ci] != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " [", absl::StrJoin(v, ","), "] moves along the batch or channel dimension (",
        nchw ? "NCHW" : "NHWC", "); only the spatial entries may differ from 1"));
  }
  if (v[hi] <= 0 || v[wi] <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be positive, got [", absl::StrJoin(v, ","), "]"));
  }
  *h = v[hi];
  *w = v[wi];
  return absl::OkStatus();
}

absl::Status SpatialPair(const AttrSlice& attrs, const char* name, bool nchw, int64_t* h,
                         int64_t* w) {
  std::vector<int64_t> v;
  RETURN_IF_ERROR(attrs.Get(name, &v));
  return SpatialPair(v, name, nchw, h, w);
}

}  // namespace

absl::StatusOr<Window2D> Window2D::FromAttrs(const AttrSlice& attrs) {
  Window2D w;
  std::string format = "NHWC";
  if (attrs.Has("data_format")) RETURN_IF_ERROR(attrs.Get("data_format", &format));
  if (format != "NHWC" && format != "NCHW") {
    return absl::InvalidArgumentError(
        absl::StrCat("data_format must be NHWC or NCHW, got '", format, "'"));
  }
  w.nchw = format == "NCHW";
  if (attrs.Has("strides")) {
    RETURN_IF_ERROR(SpatialPair(attrs, "strides", w.nchw, &w.stride_h, &w.stride_w));
  }
  if (attrs.Has("dilations")) {
    RETURN_IF_ERROR(SpatialPair(attrs, "dilations", w.nchw, &w.dilation_h, &w.dilation_w));
  }
  if (attrs.Has("ksize")) {
    RETURN_IF_ERROR(SpatialPair(attrs, "ksize", w.nchw, &w.window_h, &w.window_w));
  }
  RETURN_IF_ERROR(attrs.Get("padding", &w.padding));
  if (w.padding != "SAME" && w.padding != "VALID" && w.padding != "EXPLICIT") {
    return absl::InvalidArgumentError(
        absl::StrCat("padding must be SAME, VALID or EXPLICIT, got '", w.padding, "'"));
  }
  std::vector<int64_t> explicit_paddings;
  if (attrs.Has("explicit_paddings")) {
    RETURN_IF_ERROR(attrs.Get("explicit_paddings", &explicit_paddings));
  }
  if (w.padding == "EXPLICIT") {
    if (explicit_paddings.size() != 8) {
      return absl::InvalidArgumentError(absl::StrCat(
          "EXPLICIT padding needs explicit_paddings with 8 entries (before and after for each "
          "dimension), got ",
          explicit_paddings.size()));
    }
    for (int64_t p : explicit_paddings) {
      if (p < 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "explicit_paddings must not be negative, got [", absl::StrJoin(explicit_paddings, ","),
            "]"));
      }
    }
    const int hi = w.height_axis(), wi = w.width_axis(), ci = w.channel_axis();
    if (explicit_paddings[0] || explicit_paddings[1] || explicit_paddings[2 * ci] ||
        explicit_paddings[2 * ci + 1]) {
      return absl::InvalidArgumentError(absl::StrCat(
          "explicit_paddings [", absl::StrJoin(explicit_paddings, ","),
          "] pads the batch or channel dimension; only the spatial ones may be padded"));
    }
    w.pad_top = explicit_paddings[2 * hi];
    w.pad_bottom = explicit_paddings[2 * hi + 1];
    w.pad_left = explicit_paddings[2 * wi];
    w.pad_right = explicit_paddings[2 * wi + 1];
  } else if (!explicit_paddings.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("explicit_paddings is set but padding is ", w.padding));
  }
  return w;
}

absl::Status Window2D::SetPoolingWindow(const std::vector<int64_t>& ksize,
                                        const std::vector<int64_t>& strides) {
  RETURN_IF_ERROR(SpatialPair(ksize, "ksize", nchw, &window_h, &window_w));
  return SpatialPair(strides, "strides", nchw, &stride_h, &stride_w);
}

absl::StatusOr<WindowDim> Window2D::Height(int64_t input, int64_t window) const {
  return Resolve("height", input, window, stride_h, dilation_h, pad_top, pad_bottom);
}

absl::StatusOr<WindowDim> Window2D::Width(int64_t input, int64_t window) const {
  return Resolve("width", input, window, stride_w, dilation_w, pad_left, pad_right);
}

absl::StatusOr<WindowDim> Window2D::Resolve(const char* axis, int64_t input, int64_t window,
                                            int64_t stride, int64_t dilation,
                                            int64_t pad_before, int64_t pad_after) const {
  WindowDim d;
  d.input = input;
  d.window = window;
  d.stride = stride;
  d.dilation = dilation;
  if (window <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("the window's ", axis, " must be positive, got ", window));
  }
  const int64_t effective = d.EffectiveWindow();
  if (padding == "SAME") {
    d.output = (input + stride - 1) / stride;
    const int64_t needed = std::max<int64_t>(0, (d.output - 1) * stride + effective - input);
    d.pad_before = needed / 2;
    d.pad_after = needed - d.pad_before;
    return d;
  }
  if (padding == "EXPLICIT") {
    d.pad_before = pad_before;
    d.pad_after = pad_after;
  }
  const int64_t padded = input + d.pad_before + d.pad_after;
  if (padded < effective) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the window's ", axis, " (", effective, dilation > 1 ? " dilated" : "",
        ") is larger than the input's ", axis, " (", input,
        padding == "EXPLICIT" ? absl::StrCat(", ", padded, " padded") : std::string(), ") with ",
        padding, " padding"));
  }
  d.output = (padded - effective) / stride + 1;
  return d;
}

}  // namespace runnel
