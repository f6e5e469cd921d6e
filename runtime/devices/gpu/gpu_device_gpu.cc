// The GPU device: one per CUDA device found, each with process-wide streams, library
// handles and a caching allocator (made by the first session that uses the GPU, with its
// gpu_options, and kept for the process, as TensorFlow keeps its GPU allocators).
#include <cstdio>
#include <map>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "core/bfc_allocator.h"
#include "core/gpu/gpu_context.h"
#include "core/status.h"
#include "runtime/device.h"
#include "runtime/devices/gpu/gpu_probe.h"

namespace runnel {

namespace {

class CudaMemory : public SubAllocator {
 public:
  explicit CudaMemory(int ordinal) : ordinal_(ordinal) {}
  void* Alloc(size_t bytes) override {
    void* ptr = nullptr;
    if (cudaSetDevice(ordinal_) != cudaSuccess || cudaMalloc(&ptr, bytes) != cudaSuccess) {
      (void)cudaGetLastError();  // not sticky: the allocator reports it
      return nullptr;
    }
    return ptr;
  }
  void Free(void* ptr, size_t) override {
    (void)cudaSetDevice(ordinal_);
    (void)cudaFree(ptr);
  }

 private:
  int ordinal_;
};

struct GpuState {
  GpuDeviceContext context;
  std::unique_ptr<BFCAllocator> allocator;
  int64_t memory_limit = 0;
  std::mutex launch_mu;  // the library handles are not to be used by two threads at once
};

absl::Status InitState(int ordinal, const SessionOptions& options, GpuState* state) {
  GpuDeviceContext& c = state->context;
  c.ordinal = ordinal;
  RN_CUDA(cudaSetDevice(ordinal));
  size_t free = 0, total = 0;
  RN_CUDA(cudaMemGetInfo(&free, &total));
  const double fraction = options.GetDouble("gpu_options.per_process_gpu_memory_fraction");
  // By default what is free now, less a little for the libraries' own allocations.
  const size_t limit = fraction > 0 ? static_cast<size_t>(fraction * static_cast<double>(total))
                                    : free - std::min(free, free / 20 + (size_t{256} << 20));
  state->memory_limit = static_cast<int64_t>(limit);
  RN_CUDA(cudaStreamCreateWithFlags(&c.compute, cudaStreamNonBlocking));
  RN_CUDA(cudaStreamCreateWithFlags(&c.host_to_device, cudaStreamNonBlocking));
  RN_CUDA(cudaStreamCreateWithFlags(&c.device_to_host, cudaStreamNonBlocking));
  RN_CUBLAS(cublasCreate(&c.cublas));
  RN_CUBLAS(cublasSetStream(c.cublas, c.compute));
  RN_CUBLAS(cublasLtCreate(&c.cublas_lt));
  RN_CUDNN(cudnnCreate(&c.cudnn));
  RN_CUDNN(cudnnSetStream(c.cudnn, c.compute));
  BFCAllocator::Options a;
  a.memory_limit = limit;
  a.allow_growth = options.GetBool("gpu_options.allow_growth");
  state->allocator = std::make_unique<BFCAllocator>(absl::StrCat("GPU_", ordinal, "_bfc"),
                                                    std::make_unique<CudaMemory>(ordinal), a);
  return absl::OkStatus();
}

// The GPU's process-wide state, made on first use.
absl::StatusOr<GpuState*> StateOf(int ordinal, const SessionOptions& options) {
  static std::mutex mu;
  static auto* states = new std::map<int, GpuState*>;
  std::lock_guard<std::mutex> lock(mu);
  auto it = states->find(ordinal);
  if (it != states->end()) return it->second;
  auto state = std::make_unique<GpuState>();
  RETURN_IF_ERROR(InitState(ordinal, options, state.get()));
  return (*states)[ordinal] = state.release();  // for the process, as the driver's context
}

class GpuDevice : public Device {
 public:
  GpuDevice(DeviceName name, GpuState* state, ThreadPool* pool)
      : Device(std::move(name), state->allocator.get(), pool, state->memory_limit), state_(state) {}

  DeviceContext* device_context() override { return &state_->context; }
  bool HostMemory() const override { return false; }

  absl::Status Compute(OpKernel* kernel, OpKernelContext* ctx) override {
    std::lock_guard<std::mutex> lock(state_->launch_mu);
    RN_CUDA(cudaSetDevice(state_->context.ordinal));
    RETURN_IF_ERROR(kernel->Compute(ctx));
    return CudaStatus(cudaGetLastError(), "launching the node's GPU kernel");
  }

  absl::StatusOr<Tensor> CopyToHost(const Tensor& tensor) override {
    if (tensor.on_host() || !tensor.IsInitialized()) return tensor;
    const GpuDeviceContext& c = state_->context;
    Tensor out(tensor.dtype(), tensor.shape(), CpuAllocator());
    RN_CUDA(cudaSetDevice(c.ordinal));
    RETURN_IF_ERROR(Order(c.compute, c.device_to_host));  // the kernels that wrote it
    RN_CUDA(cudaMemcpyAsync(out.raw_data(), tensor.raw_data(), tensor.TotalBytes(),
                            cudaMemcpyDeviceToHost, c.device_to_host));
    RN_CUDA(cudaStreamSynchronize(c.device_to_host));
    return out;
  }

  absl::StatusOr<Tensor> CopyFromHost(const Tensor& tensor) override {
    if (!tensor.on_host() || !tensor.IsInitialized()) return tensor;
    if (tensor.dtype() == DT_STRING) {
      return absl::InvalidArgumentError(
          "string tensors stay in host memory; no GPU kernel takes them");
    }
    const GpuDeviceContext& c = state_->context;
    Tensor out(tensor.dtype(), tensor.shape(), allocator());
    RN_CUDA(cudaSetDevice(c.ordinal));
    // The buffer may have been freed by kernels still queued on the compute stream.
    RETURN_IF_ERROR(Order(c.compute, c.host_to_device));
    // From pageable memory this returns once the bytes are staged: `tensor` may go.
    RN_CUDA(cudaMemcpyAsync(out.raw_data(), tensor.raw_data(), tensor.TotalBytes(),
                            cudaMemcpyHostToDevice, c.host_to_device));
    RETURN_IF_ERROR(Order(c.host_to_device, c.compute));
    return out;
  }

 private:
  // Later work on `second` waits for what is queued on `first` now.
  static absl::Status Order(cudaStream_t first, cudaStream_t second) {
    cudaEvent_t event;
    RN_CUDA(cudaEventCreateWithFlags(&event, cudaEventDisableTiming));
    absl::Status status = CudaStatus(cudaEventRecord(event, first), "cudaEventRecord");
    if (status.ok())
      status = CudaStatus(cudaStreamWaitEvent(second, event, 0), "cudaStreamWaitEvent");
    (void)cudaEventDestroy(event);  // released once it completes
    return status;
  }

  GpuState* state_;
};

class GpuDeviceFactory : public DeviceFactory {
 public:
  absl::Status CreateDevices(const DeviceEnv& env,
                             std::vector<std::unique_ptr<Device>>* devices) override {
    int count = 0;
    if (const cudaError_t error = cudaGetDeviceCount(&count); error != cudaSuccess) {
      (void)cudaGetLastError();
      // The plug-in loads only where the driver reports a GPU: say why it is not used
      // (a driver older than this build's CUDA runtime, most likely).
      static std::once_flag once;
      std::call_once(once, [error] {
        std::fprintf(stderr, "runnel: the GPU is not usable (%s): CPU only\n",
                     cudaGetErrorString(error));
      });
      return absl::OkStatus();
    }
    const auto& config = env.options->config();
    if (config.count("device_count.GPU")) {
      count = std::min<int>(count, static_cast<int>(env.options->GetInt("device_count.GPU")));
    }
    for (int i = 0; i < count; ++i) {
      if (!GpuKernelsLoad(i)) {  // built for another architecture
        std::fprintf(stderr, "runnel: GPU %d has no code in this build (built for sm_%s)\n", i,
                     RUNNEL_CUDA_ARCHITECTURES);
        continue;
      }
      ASSIGN_OR_RETURN(GpuState * state, StateOf(i, *env.options));
      DeviceName name{env.job, env.replica, env.task, "GPU", i};
      devices->push_back(std::make_unique<GpuDevice>(std::move(name), state, env.compute_pool));
    }
    return absl::OkStatus();
  }
};

REGISTER_DEVICE_FACTORY("GPU", 50, GpuDeviceFactory);

}  // namespace
}  // namespace runnel
