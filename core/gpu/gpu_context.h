// What a GPU kernel sees of its device (CUDA; GPU code only: the device in
// runtime/devices/gpu/ and the kernels' *_gpu.cc files): its streams and library handles,
// through GpuContext(ctx), and CUDA, cuBLAS and cuDNN errors as Status.
//
// Work order: every kernel of a device enqueues on the device's one compute stream and
// returns; the stream's order is the data dependencies' order, so a buffer freed on the
// host side may be reused by a later kernel at once. Copies run on their own streams:
// host-to-device waits for the compute stream (the buffer it fills may have been in use
// there) and the compute stream waits for it; device-to-host waits for the compute
// stream and the host waits for it.
#pragma once

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <string>

#include "absl/status/status.h"
#include "core/device_base.h"
#include "core/op_kernel.h"

namespace runnel {

absl::Status CudaStatus(cudaError_t error, const char* what);
absl::Status CublasStatus(cublasStatus_t status, const char* what);
absl::Status CudnnStatus(cudnnStatus_t status, const char* what);

#define RN_CUDA(expr) RETURN_IF_ERROR(::runnel::CudaStatus((expr), #expr))
#define RN_CUBLAS(expr) RETURN_IF_ERROR(::runnel::CublasStatus((expr), #expr))
#define RN_CUDNN(expr) RETURN_IF_ERROR(::runnel::CudnnStatus((expr), #expr))

class GpuDeviceContext : public DeviceContext {
 public:
  int ordinal = 0;
  cudaStream_t compute = nullptr;
  cudaStream_t host_to_device = nullptr;
  cudaStream_t device_to_host = nullptr;
  cublasHandle_t cublas = nullptr;  // bound to `compute`
  cublasLtHandle_t cublas_lt = nullptr;
  cudnnHandle_t cudnn = nullptr;  // bound to `compute`
  void* workspace = nullptr;      // cuBLAS's, on `compute`
  size_t workspace_bytes = 0;
};

// The context of the device `ctx` runs on; an internal error on another device.
absl::StatusOr<GpuDeviceContext*> GpuContext(OpKernelContext* ctx);

}  // namespace runnel
