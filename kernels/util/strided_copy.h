// Copies an N-d block between buffers given byte strides for source and destination;
// the workhorse of Slice, StridedSlice, Transpose, Pad, Tile and Concat.
#pragma once

#include <cstdint>

#include "core/tensor_shape.h"

namespace runnel {

class ThreadPool;

// Copies dims[0] x ... x dims[n-1] elements of `elem_size` bytes. Strides are in bytes and
// may be negative. A null `pool` copies on the calling thread.
void StridedCopy(int elem_size, const DimVector& dims, const char* src,
                 const DimVector& src_strides, char* dst, const DimVector& dst_strides,
                 ThreadPool* pool = nullptr);

// Row-major byte strides of a dense tensor of `dims` with `elem_size`-byte elements.
DimVector DenseStrides(const DimVector& dims, int elem_size);

inline DimVector DimsOf(const TensorShape& shape) {
  return DimVector(shape.dim_sizes().begin(), shape.dim_sizes().end());
}

}  // namespace runnel
