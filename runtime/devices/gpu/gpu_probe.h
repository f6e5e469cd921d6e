// Whether this build's CUDA code runs on a device: it is compiled for one architecture
// (sm_90 by default), and a GPU of another has no device code to run.
#pragma once

namespace runnel {

bool GpuKernelsLoad(int ordinal);

}  // namespace runnel
