// What a kernel reaches of its device (runtime/device.h's Device is one): its name and
// type, the allocator its tensors come from, the context its work runs in (a GPU's stream
// and library handles; none on a CPU), copies to and from host memory, and the resources
// it holds (variables), which live as long as the device, not as one session's run.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/allocator.h"
#include "core/tensor.h"

namespace runnel {

class OpKernel;

// Per-device state a kernel works in; a device type that needs one derives from it.
class DeviceContext {
 public:
  virtual ~DeviceContext() = default;
};

// Stateful kernels (a variable and its value, a queue) by name (the node's `shared_name`,
// else its own): the same node gets the same kernel in every executor and session that uses
// the device, and ops given a resource's handle find it here.
class ResourceManager {
 public:
  using Creator = std::function<absl::StatusOr<std::unique_ptr<OpKernel>>()>;
  absl::StatusOr<std::shared_ptr<OpKernel>> LookupOrCreate(const std::string& name,
                                                           const Creator& create);
  bool Contains(const std::string& name);
  // The kernel held under `name`, or null.
  std::shared_ptr<OpKernel> Lookup(const std::string& name);
  void Clear();

 private:
  std::mutex mu_;
  absl::flat_hash_map<std::string, std::shared_ptr<OpKernel>> kernels_;
};

class DeviceBase {
 public:
  DeviceBase(std::string name, std::string type, Allocator* allocator)
      : name_(std::move(name)), type_(std::move(type)), allocator_(allocator) {}
  virtual ~DeviceBase();

  // "/job:localhost/replica:0/task:0/device:CPU:0"
  const std::string& name() const { return name_; }
  const std::string& device_type() const { return type_; }
  Allocator* allocator() const { return allocator_; }
  virtual DeviceContext* device_context() { return nullptr; }
  ResourceManager* resource_manager() { return &resources_; }

  // Whether this device's tensors live in host memory (a CPU's do).
  virtual bool HostMemory() const { return true; }
  // `tensor` in host memory / in this device's memory. A device whose memory is the host's
  // returns the tensor itself, buffer shared.
  virtual absl::StatusOr<Tensor> CopyToHost(const Tensor& tensor) { return tensor; }
  virtual absl::StatusOr<Tensor> CopyFromHost(const Tensor& tensor) { return tensor; }

 private:
  std::string name_, type_;
  Allocator* allocator_;
  ResourceManager resources_;
};

}  // namespace runnel
