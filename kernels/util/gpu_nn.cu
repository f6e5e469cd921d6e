// CUDA kernels of training: softmax and the softmax cross-entropy losses (a block per row),
// and the fused optimizer updates (a thread per element, the CPU rules' arithmetic).
#include <cmath>

#include "kernels/util/gpu_kernels.h"
#include "kernels/util/gpu_launch.cuh"

namespace runnel::gpu {
namespace {

// The block's threads combine their values: the maximum, or the sum.
template <bool kMax>
__device__ float BlockReduce(float value, float* shared) {
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) {
      const float other = shared[threadIdx.x + s];
      shared[threadIdx.x] = kMax ? fmaxf(shared[threadIdx.x], other) : shared[threadIdx.x] + other;
    }
    __syncthreads();
  }
  const float result = shared[0];
  __syncthreads();
  return result;
}

// The row's maximum and log of the sum of exp(x - max).
__device__ void RowStats(const float* x, int64_t classes, float* shared, float* max,
                         float* log_sum) {
  float m = -INFINITY;
  for (int64_t c = threadIdx.x; c < classes; c += blockDim.x) m = fmaxf(m, x[c]);
  *max = BlockReduce<true>(m, shared);
  float sum = 0;
  for (int64_t c = threadIdx.x; c < classes; c += blockDim.x) sum += expf(x[c] - *max);
  *log_sum = logf(BlockReduce<false>(sum, shared));
}

__global__ void SoftmaxKernel(const float* logits, float* out, int64_t rows, int64_t classes,
                              bool log) {
  __shared__ float shared[kThreads];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* x = logits + row * classes;
    float max, log_sum;
    RowStats(x, classes, shared, &max, &log_sum);
    for (int64_t c = threadIdx.x; c < classes; c += blockDim.x) {
      const float shifted = x[c] - max - log_sum;
      out[row * classes + c] = log ? shifted : expf(shifted);
    }
  }
}

__global__ void XentKernel(const float* logits, const float* labels, float* loss, float* backprop,
                           int64_t rows, int64_t classes) {
  __shared__ float shared[kThreads];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* x = logits + row * classes;
    const float* y = labels + row * classes;
    float max, log_sum;
    RowStats(x, classes, shared, &max, &log_sum);
    float l = 0;
    for (int64_t c = threadIdx.x; c < classes; c += blockDim.x) {
      const float log_p = x[c] - max - log_sum;
      l -= y[c] * log_p;
      backprop[row * classes + c] = expf(log_p) - y[c];
    }
    l = BlockReduce<false>(l, shared);
    if (threadIdx.x == 0) loss[row] = l;
  }
}

template <typename Index>
__global__ void SparseXentKernel(const float* logits, const Index* labels, float* loss,
                                 float* backprop, int64_t rows, int64_t classes) {
  __shared__ float shared[kThreads];
  for (int64_t row = blockIdx.x; row < rows; row += gridDim.x) {
    const float* x = logits + row * classes;
    const Index label = labels[row];
    const bool valid = label >= 0 && label < classes;
    float max, log_sum;
    RowStats(x, classes, shared, &max, &log_sum);
    for (int64_t c = threadIdx.x; c < classes; c += blockDim.x) {
      const float log_p = x[c] - max - log_sum;
      backprop[row * classes + c] = valid ? expf(log_p) - (c == label ? 1.0f : 0.0f) : NAN;
    }
    if (threadIdx.x == 0) loss[row] = valid ? -(x[label] - max - log_sum) : NAN;
  }
}

int RowBlocks(int64_t rows) { return static_cast<int>(rows < 65535 ? rows : 65535); }

__global__ void ApplyKernel(ApplyRule rule, ApplyArgs a) {
  RN_GRID_STRIDE(i, a.n) {
    const float g = a.grad[i];
    float* var = a.refs[0];
    switch (rule) {
      case ApplyRule::kGradientDescent:
        var[i] -= a.s[0] * g;
        break;
      case ApplyRule::kMomentum: {  // lr, momentum
        float& accum = a.refs[1][i];
        accum = accum * a.s[1] + g;
        var[i] -= a.nesterov ? a.s[0] * (g + a.s[1] * accum) : a.s[0] * accum;
        break;
      }
      case ApplyRule::kAdagrad: {  // lr
        float& accum = a.refs[1][i];
        accum += g * g;
        var[i] -= a.s[0] * g * rsqrtf(accum);
        break;
      }
      case ApplyRule::kRMSProp: {  // lr, rho, momentum, epsilon
        float& ms = a.refs[1][i];
        float& mom = a.refs[2][i];
        ms = a.s[1] * ms + (1 - a.s[1]) * g * g;
        mom = a.s[2] * mom + a.s[0] * g * rsqrtf(ms + a.s[3]);
        var[i] -= mom;
        break;
      }
      case ApplyRule::kCenteredRMSProp: {  // lr, rho, momentum, epsilon
        float& mg = a.refs[1][i];
        float& ms = a.refs[2][i];
        float& mom = a.refs[3][i];
        mg = a.s[1] * mg + (1 - a.s[1]) * g;
        ms = a.s[1] * ms + (1 - a.s[1]) * g * g;
        mom = a.s[2] * mom + a.s[0] * g * rsqrtf(ms - mg * mg + a.s[3]);
        var[i] -= mom;
        break;
      }
      case ApplyRule::kAdam: {  // beta1_power, beta2_power, lr, beta1, beta2, epsilon
        const float beta1 = a.s[3], beta2 = a.s[4], epsilon = a.s[5];
        const float alpha = a.s[2] * sqrtf(1 - a.s[1]) / (1 - a.s[0]);
        float& m = a.refs[1][i];
        float& v = a.refs[2][i];
        m += (g - m) * (1 - beta1);
        v += (g * g - v) * (1 - beta2);
        const float step = a.nesterov ? m * beta1 + (1 - beta1) * g : m;
        var[i] -= alpha * step / (sqrtf(v) + epsilon);
        break;
      }
    }
  }
}

// Element (r, c) of the [rows, channels] view, and element i's channel.
__device__ int64_t At(const ChannelLayout& l, int64_t r, int64_t c) {
  return l.inner == 1 ? r * l.channels + c
                      : ((r / l.inner) * l.channels + c) * l.inner + r % l.inner;
}
__device__ int64_t ChannelOf(const ChannelLayout& l, int64_t i) {
  return (i / l.inner) % l.channels;
}

// The block's sum, in double as the CPU kernel sums.
__device__ double BlockSum(double value, double* shared) {
  shared[threadIdx.x] = value;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) shared[threadIdx.x] += shared[threadIdx.x + s];
    __syncthreads();
  }
  const double result = shared[0];
  __syncthreads();
  return result;
}

// A block per channel: the statistics and y's per-channel scale and shift.
__global__ void BatchNormStatsKernel(BatchNormArgs a) {
  __shared__ double shared[kThreads];
  const ChannelLayout& l = a.layout;
  for (int64_t c = blockIdx.x; c < l.channels; c += gridDim.x) {
    double mean, variance;
    if (a.training) {
      double sum = 0;
      for (int64_t r = threadIdx.x; r < l.rows; r += blockDim.x) sum += a.x[At(l, r, c)];
      mean = BlockSum(sum, shared) / l.rows;
      double squares = 0;
      for (int64_t r = threadIdx.x; r < l.rows; r += blockDim.x) {
        const double d = a.x[At(l, r, c)] - mean;
        squares += d * d;
      }
      squares = BlockSum(squares, shared);
      if (threadIdx.x == 0) {
        const double corrected = l.rows > 1 ? squares / (l.rows - 1) : squares;
        a.batch_mean[c] = a.blend ? (1 - a.factor) * a.given_mean[c] + a.factor * mean : mean;
        a.batch_variance[c] =
            a.blend ? (1 - a.factor) * a.given_variance[c] + a.factor * corrected : corrected;
      }
      // The statistics as the CPU keeps them: in float.
      mean = static_cast<float>(mean);
      variance = static_cast<float>(squares / l.rows);
    } else {
      mean = a.given_mean[c];
      variance = a.given_variance[c];
      if (threadIdx.x == 0) {
        a.batch_mean[c] = mean;
        a.batch_variance[c] = variance;
      }
    }
    if (threadIdx.x == 0) {
      a.mean[c] = mean;
      a.variance[c] = variance;
      const float scale = static_cast<float>(a.scale[c] / sqrt(variance + a.epsilon));
      a.coefficients[c] = scale;
      a.coefficients[l.channels + c] = a.offset[c] - static_cast<float>(mean) * scale;
    }
  }
}

__global__ void BatchNormApplyKernel(BatchNormArgs a, int64_t n) {
  RN_GRID_STRIDE(i, n) {
    const int64_t c = ChannelOf(a.layout, i);
    a.y[i] = a.x[i] * a.coefficients[c] + a.coefficients[a.layout.channels + c];
  }
}

// A block per channel: sum dy and sum dy * xhat, and dx's per-channel coefficients.
__global__ void BatchNormGradStatsKernel(BatchNormGradArgs a) {
  __shared__ double shared[kThreads];
  const ChannelLayout& l = a.layout;
  for (int64_t c = blockIdx.x; c < l.channels; c += gridDim.x) {
    const double inv = 1 / sqrt(double(a.variance[c]) + a.epsilon);
    const float mean = a.mean[c];
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t r = threadIdx.x; r < l.rows; r += blockDim.x) {
      const int64_t at = At(l, r, c);
      const double g = a.dy[at];
      sum_dy += g;
      sum_dy_xhat += g * (a.x[at] - mean) * inv;
    }
    sum_dy = BlockSum(sum_dy, shared);
    sum_dy_xhat = BlockSum(sum_dy_xhat, shared);
    if (threadIdx.x == 0) {
      const double k = a.scale[c] * inv;
      float* coefficient = a.coefficients;
      coefficient[c] = static_cast<float>(k);
      if (!a.training || l.rows == 0) {
        coefficient[l.channels + c] = 0;
        coefficient[2 * l.channels + c] = 0;
      } else {
        const double slope = sum_dy_xhat * inv / l.rows;  // multiplies (x - mean)
        coefficient[l.channels + c] = static_cast<float>(-k * slope);
        coefficient[2 * l.channels + c] = static_cast<float>(-k * (sum_dy / l.rows - slope * mean));
      }
      a.dscale[c] = static_cast<float>(sum_dy_xhat);
      a.doffset[c] = static_cast<float>(sum_dy);
    }
  }
}

__global__ void BatchNormGradApplyKernel(BatchNormGradArgs a, int64_t n) {
  RN_GRID_STRIDE(i, n) {
    const int64_t c = ChannelOf(a.layout, i), channels = a.layout.channels;
    a.dx[i] = a.coefficients[c] * a.dy[i] + a.coefficients[channels + c] * a.x[i] +
              a.coefficients[2 * channels + c];
  }
}

}  // namespace

cudaError_t Softmax(const float* logits, float* out, int64_t rows, int64_t classes, bool log,
                    cudaStream_t stream) {
  if (rows * classes == 0) return cudaSuccess;
  SoftmaxKernel<<<RowBlocks(rows), kThreads, 0, stream>>>(logits, out, rows, classes, log);
  return cudaGetLastError();
}

cudaError_t SoftmaxCrossEntropy(const float* logits, const float* labels, float* loss,
                                float* backprop, int64_t rows, int64_t classes,
                                cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  XentKernel<<<RowBlocks(rows), kThreads, 0, stream>>>(logits, labels, loss, backprop, rows,
                                                       classes);
  return cudaGetLastError();
}

template <typename Index>
cudaError_t SparseSoftmaxCrossEntropy(const float* logits, const Index* labels, float* loss,
                                      float* backprop, int64_t rows, int64_t classes,
                                      cudaStream_t stream) {
  if (rows == 0) return cudaSuccess;
  SparseXentKernel<<<RowBlocks(rows), kThreads, 0, stream>>>(logits, labels, loss, backprop, rows,
                                                             classes);
  return cudaGetLastError();
}
template cudaError_t SparseSoftmaxCrossEntropy(const float*, const int32_t*, float*, float*,
                                               int64_t, int64_t, cudaStream_t);
template cudaError_t SparseSoftmaxCrossEntropy(const float*, const int64_t*, float*, float*,
                                               int64_t, int64_t, cudaStream_t);

cudaError_t Apply(ApplyRule rule, const ApplyArgs& args, cudaStream_t stream) {
  if (args.n == 0) return cudaSuccess;
  ApplyKernel<<<Blocks(args.n), kThreads, 0, stream>>>(rule, args);
  return cudaGetLastError();
}

cudaError_t BatchNorm(const BatchNormArgs& args, cudaStream_t stream) {
  const ChannelLayout& l = args.layout;
  if (l.channels == 0) return cudaSuccess;
  BatchNormStatsKernel<<<RowBlocks(l.channels), kThreads, 0, stream>>>(args);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
  const int64_t n = l.rows * l.channels;
  if (n == 0) return cudaSuccess;
  BatchNormApplyKernel<<<Blocks(n), kThreads, 0, stream>>>(args, n);
  return cudaGetLastError();
}

cudaError_t BatchNormGrad(const BatchNormGradArgs& args, cudaStream_t stream) {
  const ChannelLayout& l = args.layout;
  if (l.channels == 0) return cudaSuccess;
  BatchNormGradStatsKernel<<<RowBlocks(l.channels), kThreads, 0, stream>>>(args);
  if (cudaError_t e = cudaGetLastError(); e != cudaSuccess) return e;
  const int64_t n = l.rows * l.channels;
  if (n == 0) return cudaSuccess;
  BatchNormGradApplyKernel<<<Blocks(n), kThreads, 0, stream>>>(args, n);
  return cudaGetLastError();
}

}  // namespace runnel::gpu
