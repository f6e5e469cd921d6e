// Elementwise CUDA kernels: broadcasting binary math, activations and their gradients,
// BiasAdd and its gradient. One thread per element, grid-stride loops.
#include <cmath>

#include "kernels/util/gpu_kernels.h"
#include "kernels/util/gpu_launch.cuh"

namespace runnel::gpu {
namespace {

template <BinaryOp kOp>
__device__ float Apply(float a, float b) {
  switch (kOp) {
    case BinaryOp::kAdd:
      return a + b;
    case BinaryOp::kSub:
      return a - b;
    case BinaryOp::kMul:
      return a * b;
    case BinaryOp::kDiv:
      return a / b;
    case BinaryOp::kMaximum:
      return isnan(a) ? a : (a > b ? a : b);  // NaN propagates, as in TF
    case BinaryOp::kMinimum:
      return isnan(a) ? a : (a < b ? a : b);
    case BinaryOp::kSquaredDifference:
      return (a - b) * (a - b);
  }
  return 0;
}

template <BinaryOp kOp>
__global__ void BinaryKernel(Broadcast b, const float* x, const float* y, float* out, int64_t n) {
  RN_GRID_STRIDE(i, n) {
    // The output index, innermost dim last, gives each operand's offset.
    int64_t rest = i, xo = 0, yo = 0;
    for (int d = b.rank - 1; d >= 0; --d) {
      const int64_t k = rest % b.dims[d];
      rest /= b.dims[d];
      xo += k * b.x_strides[d];
      yo += k * b.y_strides[d];
    }
    out[i] = Apply<kOp>(x[xo], y[yo]);
  }
}

template <BinaryOp kOp>
__global__ void SameShapeKernel(const float* x, const float* y, float* out, int64_t n) {
  RN_GRID_STRIDE(i, n) { out[i] = Apply<kOp>(x[i], y[i]); }
}

template <BinaryOp kOp>
cudaError_t LaunchBinary(const Broadcast& b, const float* x, const float* y, float* out, int64_t n,
                         cudaStream_t stream) {
  bool same = true;  // neither operand broadcast: no index arithmetic
  for (int d = 0; d < b.rank && same; ++d) same = b.x_strides[d] == b.y_strides[d];
  if (same && b.rank <= 1) {
    SameShapeKernel<kOp><<<Blocks(n), kThreads, 0, stream>>>(x, y, out, n);
  } else {
    BinaryKernel<kOp><<<Blocks(n), kThreads, 0, stream>>>(b, x, y, out, n);
  }
  return cudaGetLastError();
}

constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluAlpha = 1.6732632423543772848170429916717f;

template <UnaryOp kOp>
__device__ float Apply(float x) {
  switch (kOp) {
    case UnaryOp::kRelu:
      return x > 0 ? x : (isnan(x) ? x : 0.0f);
    case UnaryOp::kRelu6:
      return isnan(x) ? x : fminf(fmaxf(x, 0.0f), 6.0f);
    case UnaryOp::kNeg:
      return -x;
    case UnaryOp::kSquare:
      return x * x;
    case UnaryOp::kExp:
      return expf(x);
    case UnaryOp::kLog:
      return logf(x);
    case UnaryOp::kTanh:
      return tanhf(x);
    case UnaryOp::kSigmoid:
      return 1.0f / (1.0f + expf(-x));
    case UnaryOp::kSqrt:
      return sqrtf(x);
    case UnaryOp::kRsqrt:
      return rsqrtf(x);
    case UnaryOp::kElu:
      return x > 0 ? x : expf(x) - 1;
    case UnaryOp::kSelu:
      return x > 0 ? kSeluScale * x : kSeluScale * kSeluAlpha * (expf(x) - 1);
    case UnaryOp::kSoftplus:  // max(x, 0) + log1p(e^-|x|): never overflows
      return fmaxf(x, 0) + log1pf(expf(-fabsf(x)));
  }
  return 0;
}

template <UnaryOp kOp>
__global__ void UnaryKernel(const float* x, float* out, int64_t n) {
  RN_GRID_STRIDE(i, n) { out[i] = Apply<kOp>(x[i]); }
}

template <GradOp kOp>
__global__ void ActivationGradKernel(const float* dy, const float* v, float* out, int64_t n,
                                     float alpha) {
  RN_GRID_STRIDE(i, n) {
    switch (kOp) {
      case GradOp::kRelu:
        out[i] = v[i] > 0.0f ? dy[i] : 0.0f;
        break;
      case GradOp::kRelu6:
        out[i] = v[i] > 0.0f && v[i] < 6.0f ? dy[i] : 0.0f;
        break;
      case GradOp::kLeakyRelu:
        out[i] = v[i] > 0.0f ? dy[i] : alpha * dy[i];
        break;
      case GradOp::kElu:  // from the output y: elu'(x) = y + 1 where y < 0
        out[i] = v[i] < 0.0f ? dy[i] * (v[i] + 1) : dy[i];
        break;
      case GradOp::kSelu:
        out[i] = v[i] < 0.0f ? dy[i] * (v[i] + kSeluScale * kSeluAlpha) : dy[i] * kSeluScale;
        break;
      case GradOp::kSoftplus:
        out[i] = dy[i] / (1 + expf(-v[i]));
        break;
    }
  }
}

__global__ void LeakyReluKernel(const float* x, float* out, float alpha, int64_t n) {
  RN_GRID_STRIDE(i, n) { out[i] = x[i] > 0 ? x[i] : alpha * x[i]; }
}

__global__ void BiasAddKernel(const float* x, const float* bias, float* out, int64_t n,
                              int64_t channels, int64_t inner) {
  RN_GRID_STRIDE(i, n) { out[i] = x[i] + bias[(i / inner) % channels]; }
}

// One block per channel; its threads sum strided elements, then reduce in shared memory.
__global__ void BiasAddGradKernel(const float* dy, float* out, int64_t rows, int64_t channels,
                                  int64_t inner) {
  __shared__ float partial[kThreads];
  const int64_t c = blockIdx.x;
  const int64_t count = rows * inner;
  float sum = 0;
  for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
    const int64_t row = k / inner, j = k % inner;
    sum += dy[(row * channels + c) * inner + j];
  }
  partial[threadIdx.x] = sum;
  __syncthreads();
  for (int s = blockDim.x / 2; s > 0; s /= 2) {
    if (threadIdx.x < s) partial[threadIdx.x] += partial[threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[c] = partial[0];
}

}  // namespace

cudaError_t Binary(BinaryOp op, const Broadcast& b, const float* x, const float* y, float* out,
                   int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (op) {
    case BinaryOp::kAdd:
      return LaunchBinary<BinaryOp::kAdd>(b, x, y, out, n, stream);
    case BinaryOp::kSub:
      return LaunchBinary<BinaryOp::kSub>(b, x, y, out, n, stream);
    case BinaryOp::kMul:
      return LaunchBinary<BinaryOp::kMul>(b, x, y, out, n, stream);
    case BinaryOp::kDiv:
      return LaunchBinary<BinaryOp::kDiv>(b, x, y, out, n, stream);
    case BinaryOp::kMaximum:
      return LaunchBinary<BinaryOp::kMaximum>(b, x, y, out, n, stream);
    case BinaryOp::kMinimum:
      return LaunchBinary<BinaryOp::kMinimum>(b, x, y, out, n, stream);
    case BinaryOp::kSquaredDifference:
      return LaunchBinary<BinaryOp::kSquaredDifference>(b, x, y, out, n, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t Unary(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
#define UNARY_CASE(k)                                                       \
  case UnaryOp::k:                                                          \
    UnaryKernel<UnaryOp::k><<<Blocks(n), kThreads, 0, stream>>>(x, out, n); \
    break;
  switch (op) {
    UNARY_CASE(kRelu)
    UNARY_CASE(kRelu6)
    UNARY_CASE(kNeg)
    UNARY_CASE(kSquare)
    UNARY_CASE(kExp)
    UNARY_CASE(kLog)
    UNARY_CASE(kTanh)
    UNARY_CASE(kSigmoid)
    UNARY_CASE(kSqrt)
    UNARY_CASE(kRsqrt)
    UNARY_CASE(kElu)
    UNARY_CASE(kSelu)
    UNARY_CASE(kSoftplus)
  }
#undef UNARY_CASE
  return cudaGetLastError();
}

cudaError_t ActivationGrad(GradOp op, const float* dy, const float* value, float* out, int64_t n,
                           cudaStream_t stream, float alpha) {
  if (n == 0) return cudaSuccess;
#define GRAD_CASE(k)                                                                               \
  case GradOp::k:                                                                                  \
    ActivationGradKernel<GradOp::k><<<Blocks(n), kThreads, 0, stream>>>(dy, value, out, n, alpha); \
    break;
  switch (op) {
    GRAD_CASE(kRelu)
    GRAD_CASE(kRelu6)
    GRAD_CASE(kLeakyRelu)
    GRAD_CASE(kElu)
    GRAD_CASE(kSelu)
    GRAD_CASE(kSoftplus)
  }
#undef GRAD_CASE
  return cudaGetLastError();
}

cudaError_t LeakyRelu(const float* x, float* out, float alpha, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  LeakyReluKernel<<<Blocks(n), kThreads, 0, stream>>>(x, out, alpha, n);
  return cudaGetLastError();
}

cudaError_t BiasAdd(const float* x, const float* bias, float* out, int64_t n, int64_t channels,
                    int64_t inner, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  BiasAddKernel<<<Blocks(n), kThreads, 0, stream>>>(x, bias, out, n, channels, inner);
  return cudaGetLastError();
}

cudaError_t BiasAddGrad(const float* dy, float* out, int64_t rows, int64_t channels, int64_t inner,
                        cudaStream_t stream) {
  if (channels == 0) return cudaSuccess;
  BiasAddGradKernel<<<static_cast<unsigned>(channels), kThreads, 0, stream>>>(dy, out, rows,
                                                                              channels, inner);
  return cudaGetLastError();
}

}  // namespace runnel::gpu
