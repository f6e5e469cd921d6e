// A caching best-fit allocator with coalescing, in the manner of TensorFlow's BFC
// allocator: it takes large regions from a SubAllocator (cudaMalloc for a GPU) and hands
// out pieces of them, so a step's allocations cost no driver call once the regions exist.
// A free piece goes to the smallest free chunk that fits, split when much larger; a freed
// chunk merges with free neighbours of its region. Device-neutral: the GPU device gives it
// device memory, the tests host memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "core/allocator.h"

namespace runnel {

// Where the regions come from. Free gets what Alloc returned, with its size.
class SubAllocator {
 public:
  virtual ~SubAllocator() = default;
  // nullptr when the memory is not there.
  virtual void* Alloc(size_t bytes) = 0;
  virtual void Free(void* ptr, size_t bytes) = 0;
};

class BFCAllocator : public Allocator {
 public:
  struct Options {
    // The most bytes the regions may hold together.
    size_t memory_limit = 0;
    // Take regions as needed, each at least twice the previous (TensorFlow's
    // allow_growth); otherwise the first allocation takes the whole limit at once.
    bool allow_growth = true;
    // The first region's size under allow_growth.
    size_t initial_region = size_t{2} << 20;
    bool host_memory = false;
  };

  BFCAllocator(std::string name, std::unique_ptr<SubAllocator> sub, const Options& options);
  ~BFCAllocator() override;

  const char* Name() const override { return name_.c_str(); }
  void* Allocate(size_t bytes) override;
  void Deallocate(void* ptr, size_t bytes) override;
  bool HostMemory() const override { return options_.host_memory; }
  // Returns the regions that hold no allocation to the SubAllocator.
  void ReleaseCached() override;
  std::optional<AllocatorStats> Stats() const override;

  // Every allocation is rounded up to this, and aligned to it.
  static constexpr size_t kMinAllocation = 256;

 private:
  struct Chunk {
    char* ptr;
    size_t size;
    bool in_use = false;
    Chunk* prev = nullptr;  // the neighbours in its region, by address
    Chunk* next = nullptr;
    size_t region = 0;  // index into regions_
  };
  struct Region {
    char* base;
    size_t size;
  };

  Chunk* FindFree(size_t bytes);
  bool Extend(size_t bytes);
  void Split(Chunk* chunk, size_t bytes);
  void MarkFree(Chunk* chunk);
  void Unfree(Chunk* chunk) { free_.erase({chunk->size, chunk->ptr}); }

  const std::string name_;
  const std::unique_ptr<SubAllocator> sub_;
  const Options options_;
  mutable std::mutex mu_;
  std::vector<Region> regions_;  // a released region keeps its slot, size 0
  size_t reserved_ = 0;          // bytes the regions hold
  size_t next_region_;
  std::set<std::pair<size_t, char*>> free_;    // free chunks by size, then address
  absl::flat_hash_map<char*, Chunk*> chunks_;  // every chunk by its address
  AllocatorStats stats_;
};

}  // namespace runnel
