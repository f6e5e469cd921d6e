#include "runtime/device.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <random>

#include "absl/strings/str_join.h"
#include "core/kernel_registry.h"
#include "runtime/threadpool.h"

namespace runnel {
namespace {

struct FactoryEntry {
  std::string type;
  int priority;
  std::unique_ptr<DeviceFactory> factory;
};

std::vector<FactoryEntry>& Factories() {
  static auto* factories = new std::vector<FactoryEntry>;
  return *factories;
}

uint64_t RandomIncarnation() {
  static std::mutex mu;
  static std::mt19937_64 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  uint64_t value;
  do value = rng();
  while (value == 0);  // 0 is no incarnation
  return value;
}

// A CUDA build's GPU device and kernels are in a library beside this one, loaded in a
// process that has a GPU only: the driver is asked first (libcuda.so.1, which respects
// CUDA_VISIBLE_DEVICES), so a CPU-only process never maps cuBLAS and cuDNN. The plug-in
// registers its device factory and kernels as it loads.
void LoadGpuPlugin() {
#ifdef RUNNEL_GPU_PLUGIN
  static std::once_flag once;
  std::call_once(once, [] {
    void* driver = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (driver == nullptr) return;  // no driver: no GPU
    using InitFn = int (*)(unsigned);
    using CountFn = int (*)(int*);
    auto init = reinterpret_cast<InitFn>(dlsym(driver, "cuInit"));
    auto count = reinterpret_cast<CountFn>(dlsym(driver, "cuDeviceGetCount"));
    int gpus = 0;
    if (init == nullptr || count == nullptr || init(0) != 0 || count(&gpus) != 0 || gpus == 0) {
      return;
    }
    Dl_info self;
    if (dladdr(reinterpret_cast<void*>(&LoadGpuPlugin), &self) == 0) return;
    std::string path = self.dli_fname;
    path = path.substr(0, path.rfind('/') + 1) + RUNNEL_GPU_PLUGIN;
    if (dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr) {
      std::fprintf(stderr, "runnel: %d GPU(s) found, but %s did not load (%s): CPU only\n", gpus,
                   path.c_str(), dlerror());
    }
  });
#endif
}

}  // namespace

bool BuiltWithCuda() {
#ifdef RUNNEL_GPU_PLUGIN
  return true;
#else
  return false;
#endif
}

Device::Device(DeviceName name, Allocator* allocator, ThreadPool* compute_pool,
               int64_t memory_limit)
    : DeviceBase(name.ToString(), name.type, allocator),
      name_(std::move(name)),
      compute_pool_(compute_pool),
      memory_limit_(memory_limit),
      incarnation_(RandomIncarnation()) {}

Device::Device(DeviceName name, int64_t memory_limit, uint64_t incarnation)
    : DeviceBase(name.ToString(), name.type, nullptr),
      name_(std::move(name)),
      compute_pool_(nullptr),
      memory_limit_(memory_limit),
      incarnation_(incarnation) {}

void DeviceFactory::Register(const std::string& type, int priority,
                             std::unique_ptr<DeviceFactory> factory) {
  Factories().push_back({type, priority, std::move(factory)});
  std::stable_sort(
      Factories().begin(), Factories().end(),
      [](const FactoryEntry& a, const FactoryEntry& b) { return a.priority > b.priority; });
}

absl::Status DeviceFactory::AddDevices(const DeviceEnv& env,
                                       std::vector<std::unique_ptr<Device>>* devices) {
  LoadGpuPlugin();  // before the loop: the plug-in adds a factory
  for (auto& entry : Factories()) RETURN_IF_ERROR(entry.factory->CreateDevices(env, devices));
  return absl::OkStatus();
}

Device* DeviceSet::Find(const std::string& full_name) const {
  for (const auto& d : devices_) {
    if (d->name() == full_name) return d.get();
  }
  return nullptr;
}

std::vector<Device*> DeviceSet::Matching(const DeviceName& spec) const {
  std::vector<Device*> out;
  for (const auto& d : devices_) {
    if (d->parsed_name().Matches(spec)) out.push_back(d.get());
  }
  return out;
}

std::string DeviceSet::DebugNames() const {
  std::vector<std::string> names;
  for (const auto& d : devices_) names.push_back(d->name());
  return absl::StrJoin(names, ", ");
}

absl::StatusOr<std::shared_ptr<LocalDevices>> LocalDevices::Create(const SessionOptions& options,
                                                                   const std::string& job,
                                                                   int task) {
  RETURN_IF_ERROR(options.Validate());
  std::shared_ptr<LocalDevices> local(new LocalDevices);
  local->options_ = options;
  int intra = static_cast<int>(options.GetInt("intra_op_parallelism_threads"));
  if (intra <= 0) intra = NumSchedulableCpus();
  local->pool_ = std::make_unique<WorkerThreadPool>("compute", intra);
  std::vector<std::unique_ptr<Device>> devices;
  DeviceEnv env{&local->options_, local->pool_.get(), job, /*replica=*/0, task};
  RETURN_IF_ERROR(DeviceFactory::AddDevices(env, &devices));
  local->devices_ = std::make_unique<DeviceSet>(std::move(devices));
  return local;
}

absl::StatusOr<Tensor> ComputeOnce(const Node& node, std::vector<Tensor> inputs, Device* device) {
  OpKernelConstruction construction(node.def(), node.op_def(), device, node.input_types(),
                                    node.output_types());
  ASSIGN_OR_RETURN(std::unique_ptr<OpKernel> kernel,
                   KernelRegistry::Global()->CreateKernel(&construction));
  std::vector<Tensor> outputs(1);
  std::vector<TensorRef> output_refs(1);
  OpKernelContext::Params params;
  params.kernel = kernel.get();
  params.inputs = absl::MakeSpan(inputs);
  params.output_refs = absl::MakeSpan(output_refs);
  params.device = device;
  params.allocator = device->allocator();
  params.thread_pool = device->compute_pool();
  OpKernelContext ctx(params, absl::MakeSpan(outputs));
  try {
    RETURN_IF_ERROR(device->Compute(kernel.get(), &ctx));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory");
  }
  if (!outputs[0].IsInitialized()) return absl::InternalError("no output");
  return outputs[0];
}

absl::StatusOr<std::unique_ptr<Device>> CreateHostDevice(ThreadPool* pool) {
  SessionOptions options;
  std::vector<std::unique_ptr<Device>> devices;
  RETURN_IF_ERROR(DeviceFactory::AddDevices(DeviceEnv{&options, pool}, &devices));
  for (auto& device : devices) {
    if (device->device_type() == "CPU") return std::move(device);
  }
  return absl::InternalError("no CPU device factory is registered");
}

}  // namespace runnel
