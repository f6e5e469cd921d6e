#include "core/gpu/gpu_context.h"

#include "absl/strings/str_cat.h"

namespace runnel {

absl::Status CudaStatus(cudaError_t error, const char* what) {
  if (error == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cudaGetErrorString(error)));
}

absl::Status CublasStatus(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cublasGetStatusString(status)));
}

absl::Status CudnnStatus(cudnnStatus_t status, const char* what) {
  if (status == CUDNN_STATUS_SUCCESS) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", cudnnGetErrorString(status)));
}

absl::StatusOr<GpuDeviceContext*> GpuContext(OpKernelContext* ctx) {
  auto* context = ctx->device() == nullptr
                      ? nullptr
                      : dynamic_cast<GpuDeviceContext*>(ctx->device()->device_context());
  if (context == nullptr)
    return absl::InternalError("a GPU kernel runs on a device that is no GPU");
  return context;
}

}  // namespace runnel
