// Allocators hand out the memory tensors live in. Devices provide one each; the CPU one
// returns 64-byte-aligned host memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <string>

namespace runnel {

inline constexpr size_t kTensorAlignment = 64;

// What an allocator that keeps count has handed out (run metadata's memory stats).
struct AllocatorStats {
  int64_t num_allocs = 0;
  int64_t bytes_in_use = 0;
  int64_t peak_bytes_in_use = 0;
  int64_t largest_alloc_size = 0;
  int64_t bytes_reserved = 0;  // taken from the system, in use or cached
  int64_t bytes_limit = 0;
};

// Thrown by a tensor whose allocator has no memory for it; the executor turns it into a
// ResourceExhaustedError naming the node.
class OutOfMemory : public std::bad_alloc {
 public:
  explicit OutOfMemory(std::string message) : message_(std::move(message)) {}
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  std::string message_;
};

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
  // Counts, from an allocator that keeps them.
  virtual std::optional<AllocatorStats> Stats() const { return std::nullopt; }
};

// Process-wide host allocator (aligned malloc).
Allocator* CpuAllocator();

}  // namespace runnel
