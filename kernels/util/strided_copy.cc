#include "kernels/util/strided_copy.h"

#include <cstring>

#include "core/threadpool.h"

namespace runnel {
namespace {

void CopyRun(int elem_size, int64_t n, const char* src, int64_t ss, char* dst, int64_t ds) {
  if (ss == elem_size && ds == elem_size) {
    std::memcpy(dst, src, n * elem_size);
    return;
  }
  switch (elem_size) {
#define RN_COPY_CASE(SIZE, TYPE)                                                             \
  case SIZE:                                                                                 \
    for (int64_t i = 0; i < n; ++i) {                                                        \
      *reinterpret_cast<TYPE*>(dst + i * ds) = *reinterpret_cast<const TYPE*>(src + i * ss); \
    }                                                                                        \
    return;
    RN_COPY_CASE(1, uint8_t)
    RN_COPY_CASE(2, uint16_t)
    RN_COPY_CASE(4, uint32_t)
    RN_COPY_CASE(8, uint64_t)
#undef RN_COPY_CASE
    default:
      for (int64_t i = 0; i < n; ++i) std::memcpy(dst + i * ds, src + i * ss, elem_size);
  }
}

// Copies rows [begin, end) of the block, a row being the innermost dim.
void CopyRows(int elem_size, const DimVector& dims, const char* src, const DimVector& ss, char* dst,
              const DimVector& ds, int64_t begin, int64_t end) {
  const int outer = static_cast<int>(dims.size()) - 1;
  DimVector index(outer, 0);
  int64_t so = 0, doff = 0, rest = begin;
  for (int d = outer - 1; d >= 0; --d) {
    index[d] = rest % dims[d];
    rest /= dims[d];
    so += index[d] * ss[d];
    doff += index[d] * ds[d];
  }
  for (int64_t row = begin; row < end; ++row) {
    CopyRun(elem_size, dims[outer], src + so, ss[outer], dst + doff, ds[outer]);
    for (int d = outer - 1; d >= 0; --d) {
      so += ss[d];
      doff += ds[d];
      if (++index[d] < dims[d]) break;
      so -= ss[d] * dims[d];
      doff -= ds[d] * dims[d];
      index[d] = 0;
    }
  }
}

}  // namespace

DimVector DenseStrides(const DimVector& dims, int elem_size) {
  DimVector strides(dims.size());
  int64_t s = elem_size;
  for (int i = static_cast<int>(dims.size()) - 1; i >= 0; --i) {
    strides[i] = s;
    s *= dims[i];
  }
  return strides;
}

void StridedCopy(int elem_size, const DimVector& dims, const char* src,
                 const DimVector& src_strides, char* dst, const DimVector& dst_strides,
                 ThreadPool* pool) {
  int64_t total = 1;
  for (int64_t d : dims) total *= d;
  if (total == 0) return;
  if (dims.empty()) {
    std::memcpy(dst, src, elem_size);
    return;
  }
  // Merge dims that are contiguous in both source and destination, so runs get long.
  DimVector d{dims[0]}, ss{src_strides[0]}, ds{dst_strides[0]};
  for (size_t i = 1; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (d.back() == 1 ||
        (ss.back() == src_strides[i] * dims[i] && ds.back() == dst_strides[i] * dims[i])) {
      if (d.back() == 1) {
        d.back() = dims[i];
        ss.back() = src_strides[i];
        ds.back() = dst_strides[i];
      } else {
        d.back() *= dims[i];
        ss.back() = src_strides[i];
        ds.back() = dst_strides[i];
      }
    } else {
      d.push_back(dims[i]);
      ss.push_back(src_strides[i]);
      ds.push_back(dst_strides[i]);
    }
  }
  const int64_t rows = total / d.back();
  if (pool == nullptr) {
    CopyRows(elem_size, d, src, ss, dst, ds, 0, rows);
    return;
  }
  pool->ParallelFor(rows, d.back() * elem_size / 4 + 10, [&](int64_t begin, int64_t end) {
    CopyRows(elem_size, d, src, ss, dst, ds, begin, end);
  });
}

}  // namespace runnel
