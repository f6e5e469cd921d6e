// Launchers of the elementwise CUDA kernels (gpu_elementwise.cu) for the GPU OpKernels of
// the families (kernels/<family>/*_gpu.cc). Each enqueues on `stream` and returns the
// launch's error.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace runnel::gpu {

// The collapsed broadcast of kernels/util/broadcast.h, small enough to pass by value.
inline constexpr int kMaxBroadcastDims = 8;
struct Broadcast {
  int rank = 0;
  int64_t dims[kMaxBroadcastDims];
  int64_t x_strides[kMaxBroadcastDims];
  int64_t y_strides[kMaxBroadcastDims];
};

enum class BinaryOp { kAdd, kSub, kMul, kDiv, kMaximum, kMinimum, kSquaredDifference };
cudaError_t Binary(BinaryOp op, const Broadcast& b, const float* x, const float* y, float* out,
                   int64_t n, cudaStream_t stream);

enum class UnaryOp { kRelu, kRelu6, kNeg, kSquare, kExp, kLog, kTanh, kSigmoid, kSqrt, kRsqrt };
cudaError_t Unary(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream);

// out = dy where the activation passed its input through (x > 0 for Relu; 0 < x < 6 for Relu6).
cudaError_t ReluGrad(const float* dy, const float* x, float* out, int64_t n, bool relu6,
                     cudaStream_t stream);

// out[i] = x[i] + bias[channel of i]: channels innermost (NHWC) or at `channels`'s place
// with `inner` elements after it (NCHW).
cudaError_t BiasAdd(const float* x, const float* bias, float* out, int64_t n, int64_t channels,
                    int64_t inner, cudaStream_t stream);

// out[c] = the sum over the rows of a [rows, channels, inner] tensor's channel c.
cudaError_t BiasAddGrad(const float* dy, float* out, int64_t rows, int64_t channels, int64_t inner,
                        cudaStream_t stream);

}  // namespace runnel::gpu
