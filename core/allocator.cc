#include "core/allocator.h"

#include <cstdlib>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace runnel {
namespace {

// Aligned malloc, keeping freed large blocks for reuse. glibc hands blocks of this size to
// mmap and back to the kernel on free, so every step of a model would fault in and zero
// its large activations again (a third of a CNN layer's time was the kernel's page
// faults). Blocks are reused only for the same rounded size, which is what repeated steps
// ask for; at most kMaxCachedBytes stay cached, the oldest freed first out.
class AlignedHostAllocator final : public Allocator {
 public:
  const char* Name() const override { return "cpu"; }

  void* Allocate(size_t bytes) override {
    const size_t rounded = Round(bytes);
    if (rounded >= kMinCachedBytes) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(rounded);
      if (it != free_.end() && !it->second.empty()) {
        void* ptr = it->second.back();
        it->second.pop_back();
        order_.remove(Block{ptr, rounded});
        cached_bytes_ -= rounded;
        return ptr;
      }
    }
    return std::aligned_alloc(kTensorAlignment, rounded);
  }

  void Deallocate(void* ptr, size_t bytes) override {
    if (ptr == nullptr) return;
    const size_t rounded = Round(bytes);
    if (rounded < kMinCachedBytes || rounded > kMaxCachedBytes) {
      std::free(ptr);
      return;
    }
    std::lock_guard<std::mutex> lock(mu_);
    free_[rounded].push_back(ptr);
    order_.push_back(Block{ptr, rounded});
    cached_bytes_ += rounded;
    ReleaseDownTo(kMaxCachedBytes);
  }

  void ReleaseCached() override {
    std::lock_guard<std::mutex> lock(mu_);
    ReleaseDownTo(0);
  }

 private:
  static constexpr size_t kMinCachedBytes = 256 << 10;
  static constexpr size_t kMaxCachedBytes = size_t{512} << 20;

  struct Block {
    void* ptr;
    size_t bytes;
    bool operator==(const Block& other) const { return ptr == other.ptr; }
  };

  // Frees the oldest cached blocks until at most `limit` bytes stay cached.
  void ReleaseDownTo(size_t limit) {
    while (cached_bytes_ > limit) {
      Block oldest = order_.front();
      order_.pop_front();
      auto& list = free_[oldest.bytes];
      for (auto it = list.begin(); it != list.end(); ++it) {
        if (*it == oldest.ptr) {
          list.erase(it);
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
  std::unordered_map<size_t, std::vector<void*>> free_;  // rounded size -> blocks
  std::list<Block> order_;                               // freed blocks, oldest first
  size_t cached_bytes_ = 0;
};

}  // namespace

Allocator* CpuAllocator() {
  static AlignedHostAllocator* allocator = new AlignedHostAllocator;
  return allocator;
}

}  // namespace runnel
