#include "core/allocator.h"

#include <cstdlib>

namespace runnel {
namespace {

class AlignedHostAllocator final : public Allocator {
 public:
  const char* Name() const override { return "cpu"; }
  void* Allocate(size_t bytes) override {
    size_t rounded = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
    return std::aligned_alloc(kTensorAlignment, rounded == 0 ? kTensorAlignment : rounded);
  }
  void Deallocate(void* ptr, size_t) override { std::free(ptr); }
};

}  // namespace

Allocator* CpuAllocator() {
  static AlignedHostAllocator* allocator = new AlignedHostAllocator;
  return allocator;
}

}  // namespace runnel
