// Allocators hand out the memory tensors live in. Devices provide one each; the CPU one
// returns 64-byte-aligned host memory.
#pragma once

#include <cstddef>

namespace runnel {

inline constexpr size_t kTensorAlignment = 64;

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual const char* Name() const = 0;
  // Returns nullptr when out of memory.
  virtual void* Allocate(size_t bytes) = 0;
  virtual void Deallocate(void* ptr, size_t bytes) = 0;
  // Whether the memory is the host's (the CPU's is; a GPU's is not): host code (printing,
  // serializing, handing a fetch to Python) may read it only then.
  virtual bool HostMemory() const { return true; }
  // Gives freed memory kept for reuse back to the system: after one-off work whose
  // temporaries nothing will ask for again.
  virtual void ReleaseCached() {}
};

// Process-wide host allocator (aligned malloc).
Allocator* CpuAllocator();

}  // namespace runnel
