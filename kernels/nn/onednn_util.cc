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

dnnl::memory OneDnnScratchpad(const dnnl::memory::desc& desc) {
  thread_local std::vector<uint8_t> buffer;
  if (buffer.size() < desc.get_size()) buffer.resize(desc.get_size());
  return dnnl::memory(desc, OneDnnEngine(), buffer.data());
}

void SetOneDnnThreads(int threads) {
  thread_local int current = 0;
  if (current != threads) omp_set_num_threads(threads);
  current = threads;
}

}  // namespace runnel
