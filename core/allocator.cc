#include "core/allocator.h"

#include <cstdlib>
#include <list>
#include <map>
#include <mutex>
#include <unordered_map>

namespace runnel {
namespace {

// Aligned malloc, keeping freed blocks of kMinCachedBytes and more for reuse. glibc hands
// large blocks to mmap and back to the kernel on free, so every step of a model would fault
// in and zero its large activations again (a third of a CNN layer's time was the kernel's
// page faults); smaller ones it keeps in per-thread arenas, each holding on to what was
// freed in it (activations are made on one pool thread and freed on another): left to
// glibc, a model held several times its activations' memory. A request takes
// the smallest cached block with room for it and at most as much again to spare, so the
// cache settles near the activations a step has live at once rather than one block per
// size it ever asked for. At most kMaxCachedBytes stay cached, the oldest freed first out.
class AlignedHostAllocator final : public Allocator {
 public:
  const char* Name() const override { return "cpu"; }

  void* Allocate(size_t bytes) override {
    const size_t rounded = Round(bytes);
    if (rounded < kMinCachedBytes) return std::aligned_alloc(kTensorAlignment, rounded);
    std::unique_lock<std::mutex> lock(mu_);
    void* ptr = nullptr;
    size_t size = rounded;
    auto it = free_.lower_bound(rounded);
    if (it != free_.end() && it->first <= 2 * rounded) {
      size = it->first;
      ptr = it->second;
      free_.erase(it);
      order_.remove(Block{ptr, size});
      cached_bytes_ -= size;
    } else {
      lock.unlock();
      ptr = std::aligned_alloc(kTensorAlignment, rounded);
      if (ptr == nullptr) return nullptr;
      lock.lock();
    }
    in_use_[ptr] = size;
    return ptr;
  }

  void Deallocate(void* ptr, size_t bytes) override {
    if (ptr == nullptr) return;
    if (Round(bytes) < kMinCachedBytes) {
      std::free(ptr);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto it = in_use_.find(ptr);
    const size_t size = it->second;  // the block's, which may be more than was asked for
    in_use_.erase(it);
    if (size > kMaxCachedBytes) {
      std::free(ptr);
      return;
    }
    free_.emplace(size, ptr);
    order_.push_back(Block{ptr, size});
    cached_bytes_ += size;
    ReleaseDownTo(kMaxCachedBytes);
  }

  void ReleaseCached() override {
    std::lock_guard<std::mutex> lock(mu_);
    ReleaseDownTo(0);
  }

 private:
  static constexpr size_t kMinCachedBytes = 16 << 10;
  static constexpr size_t kMaxCachedBytes = size_t{512} << 20;

  struct Block {
    void* ptr;
    size_t bytes;
    bool operator==(const Block& other) const { return ptr == other.ptr; }
  };

  // Frees the oldest cached blocks until at most `limit` bytes stay cached.
  void ReleaseDownTo(size_t limit) {
    while (cached_bytes_ > limit) {
      const Block oldest = order_.front();
      order_.pop_front();
      auto [first, last] = free_.equal_range(oldest.bytes);
      for (auto it = first; it != last; ++it) {
        if (it->second == oldest.ptr) {
          free_.erase(it);
          break;
        }
      }
      cached_bytes_ -= oldest.bytes;
      std::free(oldest.ptr);
    }
  }

  static size_t Round(size_t bytes) {
    const size_t rounded = (bytes + kTensorAlignment - 1) / kTensorAlignment * kTensorAlignment;
    return rounded == 0 ? kTensorAlignment : rounded;
  }

  std::mutex mu_;
  std::multimap<size_t, void*> free_;         // cached blocks by size
  std::list<Block> order_;                    // cached blocks, oldest first
  std::unordered_map<void*, size_t> in_use_;  // handed-out large blocks: their sizes
  size_t cached_bytes_ = 0;
};

}  // namespace

Allocator* CpuAllocator() {
  static AlignedHostAllocator* allocator = new AlignedHostAllocator;
  return allocator;
}

}  // namespace runnel
