#include "kernels/nn/onednn_util.h"

#include <omp.h>

#include <vector>

namespace runnel {

dnnl::engine& OneDnnEngine() {
  static dnnl::engine* engine = new dnnl::engine(dnnl::engine::kind::cpu, 0);
  return *engine;
}

dnnl::stream& OneDnnStream() {
  thread_local dnnl::stream stream(OneDnnEngine());
  return stream;
}

void* OneDnnScratchBuffer(size_t bytes) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < bytes) buffer.resize(bytes);
  return buffer.data();
}

dnnl::memory OneDnnScratchpad(const dnnl::memory::desc& desc) {
  return dnnl::memory(desc, OneDnnEngine(), OneDnnScratchBuffer(desc.get_size()));
}

std::vector<float> Reordered(const dnnl::memory::desc& user, const float* filter,
                             const dnnl::memory::desc& desc, const dnnl::reorder& reorder) {
  std::vector<float> out(desc.get_size() / sizeof(float));
  dnnl::memory from(user, OneDnnEngine(), const_cast<float*>(filter));
  dnnl::memory to(desc, OneDnnEngine(), out.data());
  SetOneDnnThreads(1);
  reorder.execute(OneDnnStream(), from, to);
  OneDnnStream().wait();
  return out;
}

void SetOneDnnThreads(int threads) {
  thread_local int current = 0;
  if (current != threads) omp_set_num_threads(threads);
  current = threads;
}

}  // namespace runnel
