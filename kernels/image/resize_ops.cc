// ResizeBilinear, ResizeNearestNeighbor and their gradients on the CPU (NHWC), with
// TensorFlow's sampling: scale = in / out, or (in - 1) / (out - 1) with align_corners;
// half_pixel_centers samples at pixel centres. Rows are spread over the pool; each output
// row's source rows and column weights are computed once.
#include <cmath>
#include <utility>
#include <vector>

#include "core/kernel_registry.h"
#include "core/threadpool.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

struct ResizeOptions {
  bool align_corners = false, half_pixel = false;

  absl::Status Init(OpKernelConstruction* ctx) {
    RETURN_IF_ERROR(ctx->GetAttr("align_corners", &align_corners));
    RETURN_IF_ERROR(ctx->GetAttr("half_pixel_centers", &half_pixel));
    RN_REQUIRE(!(align_corners && half_pixel),
               "align_corners and half_pixel_centers cannot both be true");
    return absl::OkStatus();
  }
  double Scale(int64_t in, int64_t out) const {
    return align_corners && out > 1 ? double(in - 1) / (out - 1) : double(in) / out;
  }
};

// The resizing kernels read the sampling options once.
class ResizeKernel : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return options_.Init(ctx); }

 protected:
  ResizeOptions options_;
};

// Bilinear sampling along one dim: output o reads lower and upper with weight lerp on upper.
struct Lerp {
  int64_t lower, upper;
  double lerp;
};

std::vector<Lerp> BilinearWeights(const ResizeOptions& o, int64_t in, int64_t out) {
  const double scale = o.Scale(in, out);
  std::vector<Lerp> w(out);
  for (int64_t i = 0; i < out; ++i) {
    const double src = o.half_pixel ? (i + 0.5) * scale - 0.5 : i * scale;
    const double floor = std::floor(src);
    w[i].lower = std::max<int64_t>(static_cast<int64_t>(floor), 0);
    w[i].upper = std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in - 1);
    w[i].lerp = src - floor;
  }
  return w;
}

std::vector<int64_t> NearestSources(const ResizeOptions& o, int64_t in, int64_t out) {
  const double scale = o.Scale(in, out);
  std::vector<int64_t> src(out);
  for (int64_t i = 0; i < out; ++i) {
    const double at = o.half_pixel ? (i + 0.5) * scale : i * scale;
    int64_t s = static_cast<int64_t>(o.align_corners ? std::round(at) : std::floor(at));
    src[i] = std::max<int64_t>(0, std::min(s, in - 1));
  }
  return src;
}

absl::StatusOr<std::pair<int64_t, int64_t>> SizeInput(const Tensor& size) {
  ASSIGN_OR_RETURN(std::vector<int64_t> v, IntValues(size, "size"));
  RN_REQUIRE(v.size() == 2 && v[0] > 0 && v[1] > 0,
             "size must hold 2 positive values (height, width), got shape ",
             size.shape().DebugString());
  return std::make_pair(v[0], v[1]);
}

absl::Status CheckImages(const Tensor& t, const char* what) {
  RN_REQUIRE(t.dims() == 4, what, " must be 4-D [batch, height, width, channels], got shape ",
             t.shape().DebugString());
  RN_REQUIRE(t.dim_size(1) > 0 && t.dim_size(2) > 0, what,
             " must have a positive height and width, got shape ", t.shape().DebugString());
  return absl::OkStatus();
}

// The resizing ops' common start: checks images (input 0) and size (input 1), allocates
// the [N, height, width, C] output.
absl::Status AllocateResized(OpKernelContext* ctx, std::pair<int64_t, int64_t>* size,
                             Tensor** out) {
  const Tensor& in = ctx->input(0);
  RETURN_IF_ERROR(CheckImages(in, "images"));
  ASSIGN_OR_RETURN(*size, SizeInput(ctx->input(1)));
  return ctx->allocate_output(
      0, TensorShape{in.dim_size(0), size->first, size->second, in.dim_size(3)}, out);
}

template <typename T>
class ResizeBilinearOp : public ResizeKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    std::pair<int64_t, int64_t> size;
    Tensor* out;
    RETURN_IF_ERROR(AllocateResized(ctx, &size, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    const int64_t n = in.dim_size(0), h = in.dim_size(1), w = in.dim_size(2), c = in.dim_size(3);
    const auto ys = BilinearWeights(options_, h, size.first);
    const auto xs = BilinearWeights(options_, w, size.second);
    const T* src = in.data<T>();
    float* dst = out->data<float>();
    ctx->thread_pool()->ParallelFor(n * size.first, size.second * c * 8, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const int64_t img = row / size.first;
        const Lerp& y = ys[row % size.first];
        const T* top = src + (img * h + y.lower) * w * c;
        const T* bottom = src + (img * h + y.upper) * w * c;
        float* o = dst + row * size.second * c;
        for (int64_t ox = 0; ox < size.second; ++ox) {
          const Lerp& x = xs[ox];
          for (int64_t ch = 0; ch < c; ++ch) {
            const double tl = top[x.lower * c + ch], tr = top[x.upper * c + ch];
            const double bl = bottom[x.lower * c + ch], br = bottom[x.upper * c + ch];
            const double t = tl + (tr - tl) * x.lerp, d = bl + (br - bl) * x.lerp;
            o[ox * c + ch] = static_cast<float>(t + (d - t) * y.lerp);
          }
        }
      }
    });
    return absl::OkStatus();
  }
};

// The adjoint of ResizeBilinear: each output gradient added onto its four sources, by
// image so that no two threads add into the same pixels.
template <typename T>
class ResizeBilinearGradOp : public ResizeKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& grads = ctx->input(0);
    const Tensor& original = ctx->input(1);
    RETURN_IF_ERROR(CheckImages(grads, "grads"));
    RETURN_IF_ERROR(CheckImages(original, "original_image"));
    RN_REQUIRE(grads.dim_size(0) == original.dim_size(0) && grads.dim_size(3) == original.dim_size(3),
               "grads ", grads.shape().DebugString(), " and original_image ",
               original.shape().DebugString(), " differ in batch or channels");
    const int64_t n = original.dim_size(0), h = original.dim_size(1), w = original.dim_size(2);
    const int64_t c = original.dim_size(3), oh = grads.dim_size(1), ow = grads.dim_size(2);
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, original.shape(), &out));
    T* dst = out->data<T>();
    std::fill(dst, dst + out->NumElements(), T(0));
    const auto ys = BilinearWeights(options_, h, oh);
    const auto xs = BilinearWeights(options_, w, ow);
    const float* g = grads.data<float>();
    ctx->thread_pool()->ParallelFor(n, oh * ow * c * 8, [&](int64_t b, int64_t e) {
      for (int64_t img = b; img < e; ++img) {
        for (int64_t oy = 0; oy < oh; ++oy) {
          const Lerp& y = ys[oy];
          T* top = dst + (img * h + y.lower) * w * c;
          T* bottom = dst + (img * h + y.upper) * w * c;
          const float* gr = g + (img * oh + oy) * ow * c;
          for (int64_t ox = 0; ox < ow; ++ox) {
            const Lerp& x = xs[ox];
            for (int64_t ch = 0; ch < c; ++ch) {
              const double v = gr[ox * c + ch];
              top[x.lower * c + ch] += static_cast<T>(v * (1 - y.lerp) * (1 - x.lerp));
              top[x.upper * c + ch] += static_cast<T>(v * (1 - y.lerp) * x.lerp);
              bottom[x.lower * c + ch] += static_cast<T>(v * y.lerp * (1 - x.lerp));
              bottom[x.upper * c + ch] += static_cast<T>(v * y.lerp * x.lerp);
            }
          }
        }
      }
    });
    return absl::OkStatus();
  }
};

template <typename T>
class ResizeNearestNeighborOp : public ResizeKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    std::pair<int64_t, int64_t> size;
    Tensor* out;
    RETURN_IF_ERROR(AllocateResized(ctx, &size, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    const int64_t n = in.dim_size(0), h = in.dim_size(1), w = in.dim_size(2), c = in.dim_size(3);
    const auto ys = NearestSources(options_, h, size.first);
    const auto xs = NearestSources(options_, w, size.second);
    const T* src = in.data<T>();
    T* dst = out->data<T>();
    ctx->thread_pool()->ParallelFor(n * size.first, size.second * c, [&](int64_t b, int64_t e) {
      for (int64_t row = b; row < e; ++row) {
        const T* from = src + ((row / size.first) * h + ys[row % size.first]) * w * c;
        T* o = dst + row * size.second * c;
        for (int64_t ox = 0; ox < size.second; ++ox) {
          std::copy(from + xs[ox] * c, from + (xs[ox] + 1) * c, o + ox * c);
        }
      }
    });
    return absl::OkStatus();
  }
};

template <typename T>
class ResizeNearestNeighborGradOp : public ResizeKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& grads = ctx->input(0);
    RETURN_IF_ERROR(CheckImages(grads, "grads"));
    ASSIGN_OR_RETURN(auto size, SizeInput(ctx->input(1)));
    const int64_t n = grads.dim_size(0), oh = grads.dim_size(1), ow = grads.dim_size(2);
    const int64_t c = grads.dim_size(3), h = size.first, w = size.second;
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{n, h, w, c}, &out));
    T* dst = out->data<T>();
    std::fill(dst, dst + out->NumElements(), T(0));
    const auto ys = NearestSources(options_, h, oh);
    const auto xs = NearestSources(options_, w, ow);
    const T* g = grads.data<T>();
    ctx->thread_pool()->ParallelFor(n, oh * ow * c, [&](int64_t b, int64_t e) {
      for (int64_t img = b; img < e; ++img) {
        for (int64_t oy = 0; oy < oh; ++oy) {
          T* to = dst + (img * h + ys[oy]) * w * c;
          const T* gr = g + (img * oh + oy) * ow * c;
          for (int64_t ox = 0; ox < ow; ++ox) {
            for (int64_t ch = 0; ch < c; ++ch) to[xs[ox] * c + ch] += gr[ox * c + ch];
          }
        }
      }
    });
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("ResizeBilinear", kCpu, "T", ResizeBilinearOp, uint8_t, int32_t,
                          int64_t, float, double);
REGISTER_KERNEL_FOR_TYPES("ResizeBilinearGrad", kCpu, "T", ResizeBilinearGradOp, float, double);
REGISTER_KERNEL_FOR_TYPES("ResizeNearestNeighbor", kCpu, "T", ResizeNearestNeighborOp, uint8_t,
                          int32_t, int64_t, float, double);
REGISTER_KERNEL_FOR_TYPES("ResizeNearestNeighborGrad", kCpu, "T", ResizeNearestNeighborGradOp,
                          int32_t, float, double);

}  // namespace
}  // namespace runnel
