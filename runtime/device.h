// Devices run kernels and own the memory tensors live in. A device type is a plug-in: a
// DeviceFactory registered under its type name creates its devices for a session, and
// nothing in core/ or the session names a concrete device.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "core/allocator.h"
#include "core/device_base.h"
#include "core/device_name.h"
#include "core/graph.h"
#include "core/op_kernel.h"
#include "core/status.h"
#include "core/threadpool.h"
#include "runtime/session_options.h"

namespace runnel {

class Device : public DeviceBase {
 public:
  // `memory_limit`: the bytes its allocator may hand out (0: unknown).
  Device(DeviceName name, Allocator* allocator, ThreadPool* compute_pool, int64_t memory_limit = 0);
  // A device of another process, as its owner describes it: the master places and
  // partitions with these (no allocator, no pool: nothing runs on them here).
  Device(DeviceName name, int64_t memory_limit, uint64_t incarnation);

  const DeviceName& parsed_name() const { return name_; }
  ThreadPool* compute_pool() const { return compute_pool_; }
  int64_t memory_limit() const { return memory_limit_; }
  // A random 64-bit number drawn when the device object is created, so rendezvous keys
  // from a previous incarnation (another process, a restarted worker) never match.
  uint64_t incarnation() const { return incarnation_; }

  virtual absl::Status Compute(OpKernel* kernel, OpKernelContext* ctx) {
    return kernel->Compute(ctx);
  }

 private:
  DeviceName name_;
  ThreadPool* compute_pool_;
  int64_t memory_limit_;
  uint64_t incarnation_;
};

// Everything a factory may need to build a session's devices.
struct DeviceEnv {
  const SessionOptions* options;
  ThreadPool* compute_pool;  // shared by all devices of the session
  std::string job = "localhost";
  int replica = 0;
  int task = 0;
};

class DeviceFactory {
 public:
  virtual ~DeviceFactory() = default;
  virtual absl::Status CreateDevices(const DeviceEnv& env,
                                     std::vector<std::unique_ptr<Device>>* devices) = 0;

  static void Register(const std::string& type, int priority,
                       std::unique_ptr<DeviceFactory> factory);
  // Devices of every registered type, higher priority (e.g. GPU) first.
  static absl::Status AddDevices(const DeviceEnv& env,
                                 std::vector<std::unique_ptr<Device>>* devices);
};

#define REGISTER_DEVICE_FACTORY(type, priority, factory)                            \
  static bool RN_CONCAT(rn_device_factory_, __COUNTER__) = [] {                     \
    ::runnel::DeviceFactory::Register(type, priority, std::make_unique<factory>()); \
    return true;                                                                    \
  }()

// The devices of one session.
class DeviceSet {
 public:
  explicit DeviceSet(std::vector<std::unique_ptr<Device>> devices) : devices_(std::move(devices)) {}
  const std::vector<std::unique_ptr<Device>>& devices() const { return devices_; }
  Device* Find(const std::string& full_name) const;
  // Devices matching a partial spec such as "/gpu:0" or "/device:CPU:*", in priority order.
  std::vector<Device*> Matching(const DeviceName& spec) const;
  std::string DebugNames() const;

 private:
  std::vector<std::unique_ptr<Device>> devices_;
};

// The devices a session runs on, with the compute pool their kernels use, made by the
// registered factories from session options. A session makes its own; sessions given the
// same one share its devices and so their resources (variables), as the sessions of a
// worker serving parameter servers will.
class LocalDevices {
 public:
  // A server's devices are named for its task ("/job:ps/replica:0/task:0/device:CPU:0").
  static absl::StatusOr<std::shared_ptr<LocalDevices>> Create(const SessionOptions& options,
                                                              const std::string& job = "localhost",
                                                              int task = 0);
  const DeviceSet& devices() const { return *devices_; }
  ThreadPool* compute_pool() const { return pool_.get(); }

 private:
  LocalDevices() = default;
  SessionOptions options_;
  std::unique_ptr<ThreadPool> pool_;  // outlives the devices, which use it
  std::unique_ptr<DeviceSet> devices_;
};

// Runs `node`'s kernel once on `device` and returns its only output: a value computed
// outside any step (constant folding).
absl::StatusOr<Tensor> ComputeOnce(const Node& node, std::vector<Tensor> inputs, Device* device);
// ComputeOnce on `device` as a callable of (node, inputs): what PassContext::evaluate holds.
inline auto ComputeOnceOn(Device* device) {
  return [device](const Node& node, std::vector<Tensor> inputs) {
    return ComputeOnce(node, std::move(inputs), device);
  };
}

// Whether this build has the GPU device (a CUDA build: librunnel_gpu.so beside this
// library, loaded where the driver reports a GPU).
bool BuiltWithCuda();

// The first CPU device the registered factories make for default options, outside any
// session, computing on `pool`: for work before a session exists (folding a frozen
// graph's constants) and for tests.
absl::StatusOr<std::unique_ptr<Device>> CreateHostDevice(ThreadPool* pool);

}  // namespace runnel
