#include "kernels/util/conv_util.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/status.h"
#include "core/threadpool.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

// out[n, b, a] = in[n, a, b] for `batches` matrices of a x b elements of type U, in tiles
// that keep both sides' cache lines in use.
template <typename U>
void SwapInner(const U* in, U* out, int64_t batches, int64_t a, int64_t b, ThreadPool* pool) {
  constexpr int64_t kTile = 32;
  const int64_t a_tiles = (a + kTile - 1) / kTile;
  pool->ParallelFor(batches * a_tiles, kTile * b * 2, [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t n = t / a_tiles, a0 = (t % a_tiles) * kTile, a1 = std::min(a, a0 + kTile);
      const U* src = in + n * a * b;
      U* dst = out + n * a * b;
      for (int64_t b0 = 0; b0 < b; b0 += kTile) {
        const int64_t b1 = std::min(b, b0 + kTile);
        for (int64_t i = a0; i < a1; ++i) {
          for (int64_t j = b0; j < b1; ++j) dst[j * a + i] = src[i * b + j];
        }
      }
    }
  });
}

void SwapInner(const Tensor& in, Tensor* out, int64_t batches, int64_t a, int64_t b,
               ThreadPool* pool) {
  switch (DataTypeSize(in.dtype())) {
    case 1:
      return SwapInner(static_cast<const uint8_t*>(in.raw_data()),
                       static_cast<uint8_t*>(out->raw_data()), batches, a, b, pool);
    case 2:
      return SwapInner(static_cast<const uint16_t*>(in.raw_data()),
                       static_cast<uint16_t*>(out->raw_data()), batches, a, b, pool);
    case 4:
      return SwapInner(static_cast<const uint32_t*>(in.raw_data()),
                       static_cast<uint32_t*>(out->raw_data()), batches, a, b, pool);
    default:
      return SwapInner(static_cast<const uint64_t*>(in.raw_data()),
                       static_cast<uint64_t*>(out->raw_data()), batches, a, b, pool);
  }
}

}  // namespace

absl::Status ResolveConvWindow(const Window2D& w, const TensorShape& input,
                               const TensorShape& filter, WindowDim* rows, WindowDim* cols) {
  if (filter.dims() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(
        "filter must be 4-D [height, width, in_channels, channel multiplier or out_channels], "
        "got shape ",
        filter.DebugString()));
  }
  if (input.dim_size(3) != filter.dim_size(2)) {
    return absl::InvalidArgumentError(absl::StrCat("input has ", input.dim_size(3),
                                                   " channels but the filter ",
                                                   filter.DebugString(), " expects ",
                                                   filter.dim_size(2)));
  }
  auto r = w.Height(input.dim_size(1), filter.dim_size(0));
  if (!r.ok()) return r.status();
  auto c = w.Width(input.dim_size(2), filter.dim_size(1));
  if (!c.ok()) return c.status();
  *rows = *r;
  *cols = *c;
  return absl::OkStatus();
}

absl::StatusOr<PoolShape> ResolvePool(const Window2D& w, const TensorShape& nhwc_input) {
  // A window wholly over padding would have no input to pool.
  RN_REQUIRE(std::max(w.pad_top, w.pad_bottom) < w.window_h &&
                 std::max(w.pad_left, w.pad_right) < w.window_w,
             "explicit_paddings must be smaller than the window (", w.window_h, "x", w.window_w,
             "), got top/bottom ", w.pad_top, "/", w.pad_bottom, ", left/right ", w.pad_left, "/",
             w.pad_right);
  PoolShape s;
  s.batch = nhwc_input.dim_size(0);
  s.channels = nhwc_input.dim_size(3);
  ASSIGN_OR_RETURN(s.rows, w.Height(nhwc_input.dim_size(1), w.window_h));
  ASSIGN_OR_RETURN(s.cols, w.Width(nhwc_input.dim_size(2), w.window_w));
  return s;
}

TensorShape ToNhwc(const TensorShape& shape, bool nchw) {
  if (!nchw || shape.dims() != 4) return shape;
  return {shape.dim_size(0), shape.dim_size(2), shape.dim_size(3), shape.dim_size(1)};
}

TensorShape FromNhwc(const TensorShape& nhwc, bool nchw) {
  if (!nchw) return nhwc;
  return {nhwc.dim_size(0), nhwc.dim_size(3), nhwc.dim_size(1), nhwc.dim_size(2)};
}

absl::StatusOr<Tensor> ToNhwc(const Tensor& t, bool nchw, const char* what, ThreadPool* pool) {
  if (t.dims() != 4) {
    return absl::InvalidArgumentError(absl::StrCat(what, " must be 4-D (",
                                                   nchw ? "NCHW" : "NHWC", "), got shape ",
                                                   t.shape().DebugString()));
  }
  if (!nchw) return t;
  Tensor out(t.dtype(), ToNhwc(t.shape(), true));
  if (t.NumElements() > 0) {
    SwapInner(t, &out, t.dim_size(0), t.dim_size(1), t.dim_size(2) * t.dim_size(3), pool);
  }
  return out;
}

absl::StatusOr<TensorShape> ShapeFromInput(const Tensor& t, const char* what) {
  auto sizes = IntValues(t, what);
  if (!sizes.ok()) return sizes.status();
  if (sizes->size() != 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must have 4 elements, got ", sizes->size()));
  }
  for (int64_t d : *sizes) {
    if (d < 0) {
      return absl::InvalidArgumentError(absl::StrCat(what, " must not be negative, got ", d));
    }
  }
  return TensorShape(*sizes);
}

void NhwcToNchw(const Tensor& nhwc, Tensor* out, ThreadPool* pool) {
  if (nhwc.NumElements() == 0) return;
  SwapInner(nhwc, out, nhwc.dim_size(0), nhwc.dim_size(1) * nhwc.dim_size(2), nhwc.dim_size(3),
            pool);
}

void ComputeInNhwc(Tensor* out, bool nchw, ThreadPool* pool,
                   const std::function<void(Tensor* nhwc)>& compute) {
  if (!nchw) {
    compute(out);
    return;
  }
  Tensor nhwc(out->dtype(), ToNhwc(out->shape(), true));
  compute(&nhwc);
  NhwcToNchw(nhwc, out, pool);
}

absl::Status CheckShapeOf(const Tensor& nhwc, const TensorShape& expected, const Tensor& given,
                          bool nchw, const char* name, const char* what) {
  if (nhwc.shape() == expected) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(name, " has shape ", given.shape().DebugString(),
                                                 " but ", what, " has shape ",
                                                 FromNhwc(expected, nchw).DebugString()));
}

absl::Status WindowKernel::Init(OpKernelConstruction* ctx) {
  auto window = Window2D::FromAttrs(AttrSlice(ctx->def()));
  if (!window.ok()) return window.status();
  window_ = *std::move(window);
  return absl::OkStatus();
}

}  // namespace runnel
