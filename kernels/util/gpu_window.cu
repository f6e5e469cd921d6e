// CUDA kernels of windows and borders: padding and cropping, and 2-D max and average
// pooling with their gradients (a thread per output element).
#include <cstring>

#include "kernels/util/gpu_kernels.h"
#include "kernels/util/gpu_launch.cuh"

namespace runnel::gpu {
namespace {

template <typename Word>
__global__ void PadKernel(PadMap map, const Word* in, Word* out, Word fill, int64_t n) {
  RN_GRID_STRIDE(i, n) {
    int64_t rest = i, offset = 0, stride = 1;
    bool inside = true;
    for (int d = map.rank - 1; d >= 0; --d) {
      const int64_t k = rest % map.dims[d] - map.before[d];
      rest /= map.dims[d];
      inside = inside && k >= 0 && k < map.in_dims[d];
      offset += k * stride;
      stride *= map.in_dims[d];
    }
    out[i] = inside ? in[offset] : fill;
  }
}

template <typename Word>
cudaError_t LaunchPad(const PadMap& map, const void* in, void* out, int64_t n, const void* fill,
                      cudaStream_t stream) {
  Word f;
  std::memcpy(&f, fill, sizeof(Word));
  PadKernel<<<Blocks(n), kThreads, 0, stream>>>(map, static_cast<const Word*>(in),
                                                static_cast<Word*>(out), f, n);
  return cudaGetLastError();
}

// Element (n, c, h, w) of a tensor in the geometry's layout.
__device__ int64_t At(const PoolGeometry& g, int64_t n, int64_t c, int64_t h, int64_t w,
                      int64_t height, int64_t width) {
  return g.nchw ? ((n * g.channels + c) * height + h) * width + w
                : ((n * height + h) * width + w) * g.channels + c;
}

// Output element i's coordinates, in the geometry's layout.
__device__ void Coordinates(const PoolGeometry& g, int64_t i, int64_t* n, int64_t* c, int64_t* oh,
                            int64_t* ow) {
  if (g.nchw) {
    *ow = i % g.out_w;
    i /= g.out_w;
    *oh = i % g.out_h;
    i /= g.out_h;
    *c = i % g.channels;
    *n = i / g.channels;
  } else {
    *c = i % g.channels;
    i /= g.channels;
    *ow = i % g.out_w;
    i /= g.out_w;
    *oh = i % g.out_h;
    *n = i / g.out_h;
  }
}

// Calls fn(input offset) for each input position of output element i's window, in
// row-major order.
template <typename Fn>
__device__ void ForWindow(const PoolGeometry& g, int64_t i, Fn fn) {
  int64_t n, c, oh, ow;
  Coordinates(g, i, &n, &c, &oh, &ow);
  for (int64_t kh = 0; kh < g.window_h; ++kh) {
    const int64_t h = oh * g.stride_h - g.pad_top + kh;
    if (h < 0 || h >= g.in_h) continue;
    for (int64_t kw = 0; kw < g.window_w; ++kw) {
      const int64_t w = ow * g.stride_w - g.pad_left + kw;
      if (w >= 0 && w < g.in_w) fn(At(g, n, c, h, w, g.in_h, g.in_w));
    }
  }
}

int64_t Outputs(const PoolGeometry& g) { return g.batch * g.channels * g.out_h * g.out_w; }

__global__ void MaxPoolKernel(PoolGeometry g, const float* in, float* out, int64_t n) {
  RN_GRID_STRIDE(i, n) {
    float best = -INFINITY;
    ForWindow(g, i, [&](int64_t at) { best = in[at] > best ? in[at] : best; });
    out[i] = best;
  }
}

__global__ void AvgPoolKernel(PoolGeometry g, const float* in, float* out, int64_t n) {
  RN_GRID_STRIDE(i, n) {
    float sum = 0;
    int count = 0;
    ForWindow(g, i, [&](int64_t at) {
      sum += in[at];
      ++count;
    });
    out[i] = count > 0 ? sum / count : 0.0f;
  }
}

__global__ void MaxPoolGradKernel(PoolGeometry g, const float* in, const float* dy, float* dx,
                                  int64_t n) {
  RN_GRID_STRIDE(i, n) {
    int64_t winner = -1;
    float best = 0;
    ForWindow(g, i, [&](int64_t at) {
      if (winner < 0 || in[at] > best) {
        winner = at;
        best = in[at];
      }
    });
    if (winner >= 0) atomicAdd(dx + winner, dy[i]);
  }
}

__global__ void AvgPoolGradKernel(PoolGeometry g, const float* dy, float* dx, int64_t n) {
  RN_GRID_STRIDE(i, n) {
    int count = 0;
    ForWindow(g, i, [&](int64_t) { ++count; });
    if (count == 0) continue;
    const float share = dy[i] / count;
    ForWindow(g, i, [&](int64_t at) { atomicAdd(dx + at, share); });
  }
}

}  // namespace

cudaError_t Pad(const PadMap& map, const void* in, void* out, int element_size, int64_t n,
                const void* fill, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (element_size) {
    case 1:
      return LaunchPad<uint8_t>(map, in, out, n, fill, stream);
    case 2:
      return LaunchPad<uint16_t>(map, in, out, n, fill, stream);
    case 4:
      return LaunchPad<uint32_t>(map, in, out, n, fill, stream);
    case 8:
      return LaunchPad<uint64_t>(map, in, out, n, fill, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t MaxPool(const PoolGeometry& g, const float* in, float* out, cudaStream_t stream) {
  const int64_t n = Outputs(g);
  if (n == 0) return cudaSuccess;
  MaxPoolKernel<<<Blocks(n), kThreads, 0, stream>>>(g, in, out, n);
  return cudaGetLastError();
}

cudaError_t AvgPool(const PoolGeometry& g, const float* in, float* out, cudaStream_t stream) {
  const int64_t n = Outputs(g);
  if (n == 0) return cudaSuccess;
  AvgPoolKernel<<<Blocks(n), kThreads, 0, stream>>>(g, in, out, n);
  return cudaGetLastError();
}

cudaError_t MaxPoolGrad(const PoolGeometry& g, const float* in, const float* dy, float* dx,
                        cudaStream_t stream) {
  const size_t bytes = sizeof(float) * g.batch * g.channels * g.in_h * g.in_w;
  if (cudaError_t e = cudaMemsetAsync(dx, 0, bytes, stream); e != cudaSuccess) return e;
  const int64_t n = Outputs(g);
  if (n == 0) return cudaSuccess;
  MaxPoolGradKernel<<<Blocks(n), kThreads, 0, stream>>>(g, in, dy, dx, n);
  return cudaGetLastError();
}

cudaError_t AvgPoolGrad(const PoolGeometry& g, const float* dy, float* dx, cudaStream_t stream) {
  const size_t bytes = sizeof(float) * g.batch * g.channels * g.in_h * g.in_w;
  if (cudaError_t e = cudaMemsetAsync(dx, 0, bytes, stream); e != cudaSuccess) return e;
  const int64_t n = Outputs(g);
  if (n == 0) return cudaSuccess;
  AvgPoolGradKernel<<<Blocks(n), kThreads, 0, stream>>>(g, dy, dx, n);
  return cudaGetLastError();
}

}  // namespace runnel::gpu
