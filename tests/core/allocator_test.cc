// The CPU allocator: 64-byte alignment, and reuse of freed large blocks.
#include "core/allocator.h"

#include <cstdint>
#include <cstring>

#include "gtest/gtest.h"

namespace runnel {
namespace {

TEST(CpuAllocator, AlignsEverySize) {
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{100}, size_t{1} << 20, size_t{3} << 20}) {
    void* p = CpuAllocator()->Allocate(bytes);
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kTensorAlignment, 0u) << bytes;
    std::memset(p, 1, bytes);
    CpuAllocator()->Deallocate(p, bytes);
  }
}

TEST(CpuAllocator, ReusesAFreedLargeBlockOfTheSameSize) {
  const size_t bytes = (size_t{5} << 20) + 12;
  void* first = CpuAllocator()->Allocate(bytes);
  CpuAllocator()->Deallocate(first, bytes);
  void* again = CpuAllocator()->Allocate(bytes);
  EXPECT_EQ(again, first);
  void* other = CpuAllocator()->Allocate(bytes);  // the cached block is taken: a new one
  EXPECT_NE(other, again);
  CpuAllocator()->Deallocate(again, bytes);
  CpuAllocator()->Deallocate(other, bytes);
}

TEST(CpuAllocator, ARequestTakesACachedBlockWithAtMostAsMuchAgainToSpare) {
  CpuAllocator()->ReleaseCached();  // what other tests left cached
  const size_t big = size_t{7} << 20, third = big / 3, half = big / 2 + 100;
  void* block = CpuAllocator()->Allocate(big);
  CpuAllocator()->Deallocate(block, big);
  void* small = CpuAllocator()->Allocate(third);  // the block would waste over half itself
  EXPECT_NE(small, block);
  void* reused = CpuAllocator()->Allocate(half);
  EXPECT_EQ(reused, block);
  CpuAllocator()->Deallocate(reused, half);  // the whole block goes back, not `half` of it
  void* whole = CpuAllocator()->Allocate(big);
  EXPECT_EQ(whole, block);
  std::memset(whole, 1, big);
  CpuAllocator()->Deallocate(whole, big);
  CpuAllocator()->Deallocate(small, third);
}

}  // namespace
}  // namespace runnel
