// The CPU device: host memory from the aligned allocator, kernels on the session's pool.
#include <unistd.h>

#include "runtime/device.h"

namespace runnel {
namespace {

class CpuDeviceFactory : public DeviceFactory {
 public:
  absl::Status CreateDevices(const DeviceEnv& env,
                             std::vector<std::unique_ptr<Device>>* devices) override {
    int64_t count = env.options->GetInt("device_count.CPU");
    const int64_t memory = static_cast<int64_t>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE);
    for (int64_t i = 0; i < std::max<int64_t>(count, 1); ++i) {
      DeviceName name{env.job, env.replica, env.task, "CPU", static_cast<int>(i)};
      devices->push_back(
          std::make_unique<Device>(name, CpuAllocator(), env.compute_pool, memory));
    }
    return absl::OkStatus();
  }
};

REGISTER_DEVICE_FACTORY("CPU", 10, CpuDeviceFactory);

}  // namespace
}  // namespace runnel
