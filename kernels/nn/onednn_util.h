// What every oneDNN caller shares: the CPU engine, a stream and scratch memory per thread,
// the thread count oneDNN's OpenMP runtime gives the next primitive run on this thread, and
// filters reordered into a primitive's layout.
#pragma once

#include <cstdint>
#include <vector>

#include "core/threadpool.h"
#include "oneapi/dnnl/dnnl.hpp"

namespace runnel {

dnnl::engine& OneDnnEngine();
// This thread's stream (streams on the CPU engine only order work; one per thread is enough).
dnnl::stream& OneDnnStream();
// This thread's scratch memory for a primitive created in user scratchpad mode (such
// primitives may run on several threads at once).
dnnl::memory OneDnnScratchpad(const dnnl::memory::desc& desc);
// That memory's buffer, at least `bytes` long (valid until the next call on this thread).
void* OneDnnScratchBuffer(size_t bytes);
// Primitives created and run on this thread from now on use `threads` OpenMP threads.
void SetOneDnnThreads(int threads);
// The filter (`user` layout) in the layout `desc` wants, through `reorder`, on this thread.
std::vector<float> Reordered(const dnnl::memory::desc& user, const float* filter,
                             const dnnl::memory::desc& desc, const dnnl::reorder& reorder);

// Calls fn(slice, first image, image count) over slices of the batch, one per pool thread
// (each slice's primitive then runs on that thread alone).
template <typename Fn>
void ForEachSlice(int64_t batch, ThreadPool* pool, Fn&& fn) {
  const int64_t slices = pool->NumThreads();
  pool->ParallelFor(slices, int64_t{1} << 30, [&](int64_t begin, int64_t end) {
    for (int64_t part = begin; part < end; ++part) {
      const int64_t first = batch * part / slices, last = batch * (part + 1) / slices;
      fn(part, first, last - first);
    }
  });
}

}  // namespace runnel
