#include "core/device_base.h"

#include "core/op_kernel.h"

namespace runnel {

DeviceBase::~DeviceBase() = default;

absl::StatusOr<std::shared_ptr<OpKernel>> ResourceManager::LookupOrCreate(const std::string& name,
                                                                          const Creator& create) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = kernels_.find(name);
  if (it != kernels_.end()) return it->second;
  auto kernel = create();
  if (!kernel.ok()) return kernel.status();
  return kernels_[name] = std::shared_ptr<OpKernel>(*std::move(kernel));
}

bool ResourceManager::Contains(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  return kernels_.contains(name);
}

std::shared_ptr<OpKernel> ResourceManager::Lookup(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = kernels_.find(name);
  return it == kernels_.end() ? nullptr : it->second;
}

void ResourceManager::Clear() {
  absl::flat_hash_map<std::string, std::shared_ptr<OpKernel>> kernels;
  {
    std::lock_guard<std::mutex> lock(mu_);
    kernels.swap(kernels_);
  }  // destroyed outside the lock
}

}  // namespace runnel
