// CUDA kernels that move, convert and fold tensors: reductions, scaling, gathers
// (transpose, tile), fills and casts.
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstring>
#include <type_traits>

#include "kernels/util/gpu_kernels.h"
#include "kernels/util/gpu_launch.cuh"

namespace runnel::gpu {
namespace {

template <ReduceOp kOp>
__device__ float Identity() {
  switch (kOp) {
    case ReduceOp::kSum:
      return 0.0f;
    case ReduceOp::kProd:
      return 1.0f;
    case ReduceOp::kMax:
      return -INFINITY;
    case ReduceOp::kMin:
      return INFINITY;
  }
  return 0;
}

template <ReduceOp kOp>
__device__ float Combine(float a, float b) {
  switch (kOp) {
    case ReduceOp::kSum:
      return a + b;
    case ReduceOp::kProd:
      return a * b;
    case ReduceOp::kMax:
      return isnan(b) ? b : fmaxf(a, b);
    case ReduceOp::kMin:
      return isnan(b) ? b : fminf(a, b);
  }
  return 0;
}

// inner == 1: a block per output folds its contiguous row in shared memory.
template <ReduceOp kOp>
__global__ void ReduceRows(const float* in, float* out, int64_t outer, int64_t r) {
  __shared__ float partial[kThreads];
  for (int64_t o = blockIdx.x; o < outer; o += gridDim.x) {
    float acc = Identity<kOp>();
    for (int64_t k = threadIdx.x; k < r; k += blockDim.x) acc = Combine<kOp>(acc, in[o * r + k]);
    partial[threadIdx.x] = acc;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s /= 2) {
      if (threadIdx.x < s) {
        partial[threadIdx.x] = Combine<kOp>(partial[threadIdx.x], partial[threadIdx.x + s]);
      }
      __syncthreads();
    }
    if (threadIdx.x == 0) out[o] = partial[0];
    __syncthreads();
  }
}

// inner > 1: a thread per output column walks its r rows (neighbouring threads read
// neighbouring addresses).
template <ReduceOp kOp>
__global__ void ReduceColumns(const float* in, float* out, int64_t outer, int64_t r,
                              int64_t inner) {
  RN_GRID_STRIDE(i, outer * inner) {
    const int64_t o = i / inner, j = i % inner;
    float acc = Identity<kOp>();
    for (int64_t k = 0; k < r; ++k) acc = Combine<kOp>(acc, in[(o * r + k) * inner + j]);
    out[i] = acc;
  }
}

template <ReduceOp kOp>
cudaError_t LaunchReduce(const float* in, float* out, int64_t outer, int64_t r, int64_t inner,
                         cudaStream_t stream) {
  if (inner == 1) {
    const int blocks = static_cast<int>(outer < 65535 ? outer : 65535);
    ReduceRows<kOp><<<blocks, kThreads, 0, stream>>>(in, out, outer, r);
  } else {
    ReduceColumns<kOp><<<Blocks(outer * inner), kThreads, 0, stream>>>(in, out, outer, r, inner);
  }
  return cudaGetLastError();
}

__global__ void ScaleKernel(float* x, float factor, int64_t n) {
  RN_GRID_STRIDE(i, n) { x[i] *= factor; }
}

// Output element i's offset in the input under `map`.
__device__ int64_t OffsetOf(const IndexMap& map, int64_t i) {
  int64_t rest = i, offset = map.base;
  for (int d = map.rank - 1; d >= 0; --d) {
    const int64_t k = rest % map.dims[d];
    rest /= map.dims[d];
    offset += (k % map.in_dims[d]) * map.in_strides[d];
  }
  return offset;
}

template <typename Word>
__global__ void GatherKernel(IndexMap map, const Word* in, Word* out, int64_t n) {
  RN_GRID_STRIDE(i, n) { out[i] = in[OffsetOf(map, i)]; }
}

template <typename Word>
__global__ void ScatterKernel(IndexMap map, const Word* in, Word* out, int64_t n) {
  RN_GRID_STRIDE(i, n) { out[OffsetOf(map, i)] = in[i]; }
}

template <typename Word>
__global__ void FillKernel(Word* out, Word value, int64_t n) {
  RN_GRID_STRIDE(i, n) { out[i] = value; }
}

template <typename T>
constexpr bool kReduced = std::is_same_v<T, __half> || std::is_same_v<T, __nv_bfloat16>;

template <typename From, typename To>
__global__ void CastKernel(const From* in, To* out, int64_t n) {
  RN_GRID_STRIDE(i, n) {
    if constexpr (kReduced<From> || kReduced<To>) {  // through float
      const float v = static_cast<float>(in[i]);
      if constexpr (std::is_same_v<To, bool>) {
        out[i] = v != 0.0f;
      } else if constexpr (kReduced<To>) {
        out[i] = To(v);
      } else {
        out[i] = static_cast<To>(v);
      }
    } else if constexpr (std::is_same_v<To, bool>) {
      out[i] = in[i] != From(0);
    } else {
      out[i] = static_cast<To>(in[i]);
    }
  }
}

template <typename From>
cudaError_t CastFrom(Scalar to, const From* in, void* out, int64_t n, cudaStream_t stream) {
  switch (to) {
    case Scalar::kFloat:
      CastKernel<<<Blocks(n), kThreads, 0, stream>>>(in, static_cast<float*>(out), n);
      break;
    case Scalar::kDouble:
      CastKernel<<<Blocks(n), kThreads, 0, stream>>>(in, static_cast<double*>(out), n);
      break;
    case Scalar::kInt32:
      CastKernel<<<Blocks(n), kThreads, 0, stream>>>(in, static_cast<int32_t*>(out), n);
      break;
    case Scalar::kInt64:
      CastKernel<<<Blocks(n), kThreads, 0, stream>>>(in, static_cast<int64_t*>(out), n);
      break;
    case Scalar::kBool:
      CastKernel<<<Blocks(n), kThreads, 0, stream>>>(in, static_cast<bool*>(out), n);
      break;
    case Scalar::kHalf:
      CastKernel<<<Blocks(n), kThreads, 0, stream>>>(in, static_cast<__half*>(out), n);
      break;
    case Scalar::kBFloat16:
      CastKernel<<<Blocks(n), kThreads, 0, stream>>>(in, static_cast<__nv_bfloat16*>(out), n);
      break;
  }
  return cudaGetLastError();
}

template <typename Word, typename Index>
__global__ void GatherAxisKernel(const Word* params, const Index* index, Word* out, int64_t n,
                                 int64_t limit, int64_t inner, int64_t total) {
  RN_GRID_STRIDE(i, total) {
    const int64_t k = i % inner, rest = i / inner;
    const int64_t j = rest % n, o = rest / n;
    const Index at = index[j];
    out[i] = at >= 0 && at < limit ? params[(o * limit + at) * inner + k] : Word(0);
  }
}

template <typename Word, typename Index>
cudaError_t LaunchGatherAxis(const void* params, const Index* index, void* out, int64_t outer,
                             int64_t n, int64_t limit, int64_t inner, cudaStream_t stream) {
  const int64_t total = outer * n * inner;
  GatherAxisKernel<<<Blocks(total), kThreads, 0, stream>>>(
      static_cast<const Word*>(params), index, static_cast<Word*>(out), n, limit, inner, total);
  return cudaGetLastError();
}

template <template <typename> class Kernel>
cudaError_t LaunchMapped(const IndexMap& map, const void* in, void* out, int element_size,
                         int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (element_size) {
    case 1:
      Kernel<uint8_t>::Launch(map, in, out, n, stream);
      break;
    case 2:
      Kernel<uint16_t>::Launch(map, in, out, n, stream);
      break;
    case 4:
      Kernel<uint32_t>::Launch(map, in, out, n, stream);
      break;
    case 8:
      Kernel<uint64_t>::Launch(map, in, out, n, stream);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

template <typename Word>
struct GatherLaunch {
  static void Launch(const IndexMap& map, const void* in, void* out, int64_t n,
                     cudaStream_t stream) {
    GatherKernel<<<Blocks(n), kThreads, 0, stream>>>(map, static_cast<const Word*>(in),
                                                     static_cast<Word*>(out), n);
  }
};

template <typename Word>
struct ScatterLaunch {
  static void Launch(const IndexMap& map, const void* in, void* out, int64_t n,
                     cudaStream_t stream) {
    ScatterKernel<<<Blocks(n), kThreads, 0, stream>>>(map, static_cast<const Word*>(in),
                                                      static_cast<Word*>(out), n);
  }
};

}  // namespace

cudaError_t Reduce(ReduceOp op, const float* in, float* out, int64_t outer, int64_t r,
                   int64_t inner, cudaStream_t stream) {
  if (outer * inner == 0) return cudaSuccess;
  switch (op) {
    case ReduceOp::kSum:
      return LaunchReduce<ReduceOp::kSum>(in, out, outer, r, inner, stream);
    case ReduceOp::kProd:
      return LaunchReduce<ReduceOp::kProd>(in, out, outer, r, inner, stream);
    case ReduceOp::kMax:
      return LaunchReduce<ReduceOp::kMax>(in, out, outer, r, inner, stream);
    case ReduceOp::kMin:
      return LaunchReduce<ReduceOp::kMin>(in, out, outer, r, inner, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t Scale(float* x, float factor, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  ScaleKernel<<<Blocks(n), kThreads, 0, stream>>>(x, factor, n);
  return cudaGetLastError();
}

cudaError_t Gather(const IndexMap& map, const void* in, void* out, int element_size, int64_t n,
                   cudaStream_t stream) {
  return LaunchMapped<GatherLaunch>(map, in, out, element_size, n, stream);
}

cudaError_t Scatter(const IndexMap& map, const void* in, void* out, int element_size, int64_t n,
                    cudaStream_t stream) {
  return LaunchMapped<ScatterLaunch>(map, in, out, element_size, n, stream);
}

cudaError_t Fill(void* out, const void* value, int element_size, int64_t n, cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (element_size) {
    case 1: {
      uint8_t v;
      std::memcpy(&v, value, 1);
      FillKernel<<<Blocks(n), kThreads, 0, stream>>>(static_cast<uint8_t*>(out), v, n);
      break;
    }
    case 2: {
      uint16_t v;
      std::memcpy(&v, value, 2);
      FillKernel<<<Blocks(n), kThreads, 0, stream>>>(static_cast<uint16_t*>(out), v, n);
      break;
    }
    case 4: {
      uint32_t v;
      std::memcpy(&v, value, 4);
      FillKernel<<<Blocks(n), kThreads, 0, stream>>>(static_cast<uint32_t*>(out), v, n);
      break;
    }
    case 8: {
      uint64_t v;
      std::memcpy(&v, value, 8);
      FillKernel<<<Blocks(n), kThreads, 0, stream>>>(static_cast<uint64_t*>(out), v, n);
      break;
    }
    default:
      return cudaErrorInvalidValue;
  }
  return cudaGetLastError();
}

cudaError_t Cast(Scalar from, Scalar to, const void* in, void* out, int64_t n,
                 cudaStream_t stream) {
  if (n == 0) return cudaSuccess;
  switch (from) {
    case Scalar::kFloat:
      return CastFrom(to, static_cast<const float*>(in), out, n, stream);
    case Scalar::kDouble:
      return CastFrom(to, static_cast<const double*>(in), out, n, stream);
    case Scalar::kInt32:
      return CastFrom(to, static_cast<const int32_t*>(in), out, n, stream);
    case Scalar::kInt64:
      return CastFrom(to, static_cast<const int64_t*>(in), out, n, stream);
    case Scalar::kBool:
      return CastFrom(to, static_cast<const bool*>(in), out, n, stream);
    case Scalar::kHalf:
      return CastFrom(to, static_cast<const __half*>(in), out, n, stream);
    case Scalar::kBFloat16:
      return CastFrom(to, static_cast<const __nv_bfloat16*>(in), out, n, stream);
  }
  return cudaErrorInvalidValue;
}

template <typename Index>
cudaError_t GatherAxis(const void* params, const Index* index, void* out, int element_size,
                       int64_t outer, int64_t n, int64_t limit, int64_t inner,
                       cudaStream_t stream) {
  if (outer * n * inner == 0) return cudaSuccess;
  switch (element_size) {
    case 1:
      return LaunchGatherAxis<uint8_t>(params, index, out, outer, n, limit, inner, stream);
    case 2:
      return LaunchGatherAxis<uint16_t>(params, index, out, outer, n, limit, inner, stream);
    case 4:
      return LaunchGatherAxis<uint32_t>(params, index, out, outer, n, limit, inner, stream);
    case 8:
      return LaunchGatherAxis<uint64_t>(params, index, out, outer, n, limit, inner, stream);
  }
  return cudaErrorInvalidValue;
}
template cudaError_t GatherAxis(const void*, const int32_t*, void*, int, int64_t, int64_t, int64_t,
                                int64_t, cudaStream_t);
template cudaError_t GatherAxis(const void*, const int64_t*, void*, int, int64_t, int64_t, int64_t,
                                int64_t, cudaStream_t);

}  // namespace runnel::gpu
