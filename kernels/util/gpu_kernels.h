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

enum class UnaryOp {
  kRelu,
  kRelu6,
  kNeg,
  kSquare,
  kExp,
  kLog,
  kTanh,
  kSigmoid,
  kSqrt,
  kRsqrt,
  kElu,
  kSelu,
  kSoftplus
};
// y = x > 0 ? x : alpha * x.
cudaError_t LeakyRelu(const float* x, float* out, float alpha, int64_t n, cudaStream_t stream);
cudaError_t Unary(UnaryOp op, const float* x, float* out, int64_t n, cudaStream_t stream);

// An activation's gradient from the incoming gradient and `value`: the forward op's input
// (Relu, Relu6, LeakyRelu, Softplus) or output (Elu, Selu), as in TensorFlow.
enum class GradOp { kRelu, kRelu6, kLeakyRelu, kElu, kSelu, kSoftplus };
cudaError_t ActivationGrad(GradOp op, const float* dy, const float* value, float* out, int64_t n,
                           cudaStream_t stream, float alpha = 0);

// out[i] = x[i] + bias[channel of i]: channels innermost (NHWC) or at `channels`'s place
// with `inner` elements after it (NCHW).
cudaError_t BiasAdd(const float* x, const float* bias, float* out, int64_t n, int64_t channels,
                    int64_t inner, cudaStream_t stream);

// out[c] = the sum over the rows of a [rows, channels, inner] tensor's channel c.
cudaError_t BiasAddGrad(const float* dy, float* out, int64_t rows, int64_t channels, int64_t inner,
                        cudaStream_t stream);

// Fold a [outer, r, inner] view into [outer, inner].
enum class ReduceOp { kSum, kProd, kMax, kMin };
cudaError_t Reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t r,
                   int64_t inner, cudaStream_t stream);
// x[i] *= factor.
cudaError_t Scale(float* x, float factor, int64_t n, cudaStream_t stream);

// Softmax (or log-softmax) of each row of a [rows, classes] matrix.
cudaError_t Softmax(const float* logits, float* out, int64_t rows, int64_t classes, bool log,
                    cudaStream_t stream);
// Per row: loss = -sum(labels * log softmax(logits)), backprop = softmax(logits) - labels.
cudaError_t SoftmaxCrossEntropy(const float* logits, const float* labels, float* loss,
                                float* backprop, int64_t rows, int64_t classes,
                                cudaStream_t stream);
// The same with one class index per row; an index outside [0, classes) gives NaN, as
// TensorFlow's GPU kernel does.
template <typename Index>
cudaError_t SparseSoftmaxCrossEntropy(const float* logits, const Index* labels, float* loss,
                                      float* backprop, int64_t rows, int64_t classes,
                                      cudaStream_t stream);

// out[i] = in[offset of i], where i's index k over `dims` reads (k[d] % in_dims[d]) *
// in_strides[d]: a transpose (strides permuted) or a tile (in_dims the input's).
struct IndexMap {
  int rank = 0;
  int64_t base = 0;  // added to every input offset (a strided slice's first element)
  int64_t dims[kMaxBroadcastDims];
  int64_t in_dims[kMaxBroadcastDims];
  int64_t in_strides[kMaxBroadcastDims];
};
cudaError_t Gather(const IndexMap& map, const void* in, void* out, int element_size, int64_t n,
                   cudaStream_t stream);
// The reverse, for maps that reach each input element at most once: out[offset of i] =
// in[i] (a strided slice's gradient).
cudaError_t Scatter(const IndexMap& map, const void* in, void* out, int element_size, int64_t n,
                    cudaStream_t stream);

// n copies of the element at `value` (host memory, element_size bytes).
cudaError_t Fill(void* out, const void* value, int element_size, int64_t n, cudaStream_t stream);

// Elementwise conversion between float, double, int32, int64, bool, half and bfloat16
// (TensorFlow's Cast: to bool is != 0; half and bfloat16 go through float).
enum class Scalar { kFloat, kDouble, kInt32, kInt64, kBool, kHalf, kBFloat16 };
cudaError_t Cast(Scalar from, Scalar to, const void* in, void* out, int64_t n, cudaStream_t stream);

// The fused optimizer updates of kernels/training/apply_ops.cc: `refs` are the variable
// and its slots, `s` the scalar inputs in input order (learning rate, ...).
enum class ApplyRule { kGradientDescent, kMomentum, kAdagrad, kRMSProp, kCenteredRMSProp, kAdam };
struct ApplyArgs {
  float* refs[4] = {};
  float s[6] = {};
  const float* grad = nullptr;
  int64_t n = 0;
  bool nesterov = false;
};
cudaError_t Apply(ApplyRule rule, const ApplyArgs& args, cudaStream_t stream);

// out[i] = in[k - before] for i's index k, per dim; `fill` (element_size bytes, host
// memory) where that falls outside the input: Pad (before >= 0) and crops (before < 0).
struct PadMap {
  int rank = 0;
  int64_t dims[kMaxBroadcastDims];
  int64_t in_dims[kMaxBroadcastDims];
  int64_t before[kMaxBroadcastDims];
};
cudaError_t Pad(const PadMap& map, const void* in, void* out, int element_size, int64_t n,
                const void* fill, cudaStream_t stream);

// A 2-D pooling's geometry over NHWC or NCHW tensors (padding ignored: a maximum over the
// window's input positions, an average over them).
struct PoolGeometry {
  bool nchw = false;
  int64_t batch, channels, in_h, in_w, out_h, out_w;
  int64_t window_h, window_w, stride_h, stride_w, pad_top, pad_left;
};
cudaError_t MaxPool(const PoolGeometry& g, const float* in, float* out, cudaStream_t stream);
cudaError_t AvgPool(const PoolGeometry& g, const float* in, float* out, cudaStream_t stream);
// dx (zeroed here) gets each window's gradient at the first input position holding the
// window's maximum, or spread evenly over the window's input positions.
cudaError_t MaxPoolGrad(const PoolGeometry& g, const float* in, const float* dy, float* dx,
                        cudaStream_t stream);
cudaError_t AvgPoolGrad(const PoolGeometry& g, const float* dy, float* dx, cudaStream_t stream);

// FusedBatchNorm over a tensor viewed as [rows, channels]: NHWC (inner 1) or NCHW (inner =
// height * width, a row being one image's pixel).
struct ChannelLayout {
  int64_t rows = 0, channels = 0, inner = 1;
};
// Per channel, training: the batch's mean and (biased) variance into mean/variance, the
// running statistics (blended with the given ones by `factor` when `blend`, variance with
// Bessel's correction) into batch_mean/batch_variance; inference: mean and variance are the
// given ones. Then y = x * scale / sqrt(variance + epsilon) + (offset - mean * that).
struct BatchNormArgs {
  ChannelLayout layout;
  const float *x, *scale, *offset, *given_mean, *given_variance;
  float *y, *mean, *variance, *batch_mean, *batch_variance;
  float* coefficients;  // 2 * channels of scratch
  float epsilon, factor;
  bool training, blend;
};
cudaError_t BatchNorm(const BatchNormArgs& args, cudaStream_t stream);
// The gradient: dx, dscale (sum dy * xhat), doffset (sum dy), with xhat normalized by
// reserve_space_1/2 (the forward's mean and variance).
struct BatchNormGradArgs {
  ChannelLayout layout;
  const float *dy, *x, *scale, *mean, *variance;
  float *dx, *dscale, *doffset;
  float* coefficients;  // 3 * channels of scratch
  float epsilon;
  bool training;
};
cudaError_t BatchNormGrad(const BatchNormGradArgs& args, cudaStream_t stream);

// GatherV2 over params viewed as [outer, limit, inner]: out[o, i, k] = params[o, index[i],
// k], zeros for an index outside [0, limit) (as TensorFlow's GPU kernel does).
template <typename Index>
cudaError_t GatherAxis(const void* params, const Index* index, void* out, int element_size,
                       int64_t outer, int64_t n, int64_t limit, int64_t inner, cudaStream_t stream);

}  // namespace runnel::gpu
