#include <cuda_runtime.h>

#include "runtime/devices/gpu/gpu_probe.h"

namespace runnel {
namespace {

__global__ void Probe() {}

}  // namespace

bool GpuKernelsLoad(int ordinal) {
  int previous = 0;
  if (cudaGetDevice(&previous) != cudaSuccess || cudaSetDevice(ordinal) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  cudaFuncAttributes attributes;
  const bool loads = cudaFuncGetAttributes(&attributes, Probe) == cudaSuccess;
  (void)cudaGetLastError();
  (void)cudaSetDevice(previous);
  return loads;
}

}  // namespace runnel
