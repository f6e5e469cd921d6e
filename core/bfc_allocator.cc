#include "core/bfc_allocator.h"

#include <algorithm>

namespace runnel {
namespace {

size_t RoundUp(size_t bytes) {
  const size_t k = BFCAllocator::kMinAllocation;
  return std::max<size_t>(k, (bytes + k - 1) / k * k);
}

// A chunk this much larger than asked is split; a smaller excess stays with the allocation,
// as TensorFlow's allocator keeps it (splitting would leave slivers nothing fits in).
constexpr size_t kSplitExcess = 128 << 10;

}  // namespace

BFCAllocator::BFCAllocator(std::string name, std::unique_ptr<SubAllocator> sub,
                           const Options& options)
    : name_(std::move(name)),
      sub_(std::move(sub)),
      options_(options),
      next_region_(options.allow_growth ? RoundUp(options.initial_region) : options.memory_limit) {
  stats_.bytes_limit = static_cast<int64_t>(options.memory_limit);
}

BFCAllocator::~BFCAllocator() {
  for (auto& [ptr, chunk] : chunks_) delete chunk;
  for (const Region& r : regions_) {
    if (r.size > 0) sub_->Free(r.base, r.size);
  }
}

void* BFCAllocator::Allocate(size_t bytes) {
  const size_t rounded = RoundUp(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  Chunk* chunk = FindFree(rounded);
  if (chunk == nullptr && Extend(rounded)) chunk = FindFree(rounded);
  if (chunk == nullptr) return nullptr;
  Unfree(chunk);
  Split(chunk, rounded);
  chunk->in_use = true;
  ++stats_.num_allocs;
  stats_.bytes_in_use += static_cast<int64_t>(chunk->size);
  stats_.peak_bytes_in_use = std::max(stats_.peak_bytes_in_use, stats_.bytes_in_use);
  stats_.largest_alloc_size = std::max(stats_.largest_alloc_size, static_cast<int64_t>(bytes));
  return chunk->ptr;
}

void BFCAllocator::Deallocate(void* ptr, size_t bytes) {
  if (ptr == nullptr) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = chunks_.find(static_cast<char*>(ptr));
  if (it == chunks_.end() || !it->second->in_use) return;  // not ours: nothing to corrupt
  Chunk* chunk = it->second;
  chunk->in_use = false;
  stats_.bytes_in_use -= static_cast<int64_t>(chunk->size);
  // Coalesce with the free neighbours.
  if (chunk->next != nullptr && !chunk->next->in_use) {
    Chunk* next = chunk->next;
    Unfree(next);
    chunk->size += next->size;
    chunk->next = next->next;
    if (next->next != nullptr) next->next->prev = chunk;
    chunks_.erase(next->ptr);
    delete next;
  }
  if (chunk->prev != nullptr && !chunk->prev->in_use) {
    Chunk* prev = chunk->prev;
    Unfree(prev);
    prev->size += chunk->size;
    prev->next = chunk->next;
    if (chunk->next != nullptr) chunk->next->prev = prev;
    chunks_.erase(chunk->ptr);
    delete chunk;
    chunk = prev;
  }
  MarkFree(chunk);
}

BFCAllocator::Chunk* BFCAllocator::FindFree(size_t bytes) {
  auto it = free_.lower_bound({bytes, nullptr});
  return it == free_.end() ? nullptr : chunks_.at(it->second);
}

bool BFCAllocator::Extend(size_t bytes) {
  if (reserved_ >= options_.memory_limit) return false;
  const size_t room = options_.memory_limit - reserved_;
  if (bytes > room) return false;
  // Each region at least twice the last, so a growing model takes few of them; when the
  // device cannot give that much, just what is asked.
  size_t size = std::min(std::max(bytes, next_region_), room);
  void* base = sub_->Alloc(size);
  if (base == nullptr && size > bytes) {
    size = bytes;
    base = sub_->Alloc(size);
  }
  if (base == nullptr) return false;
  if (options_.allow_growth) next_region_ = std::max(next_region_, size) * 2;
  reserved_ += size;
  stats_.bytes_reserved = static_cast<int64_t>(reserved_);
  regions_.push_back({static_cast<char*>(base), size});
  auto* chunk = new Chunk{static_cast<char*>(base), size};
  chunk->region = regions_.size() - 1;
  chunks_[chunk->ptr] = chunk;
  MarkFree(chunk);
  return true;
}

void BFCAllocator::Split(Chunk* chunk, size_t bytes) {
  if (chunk->size - bytes < kSplitExcess && chunk->size - bytes < bytes) return;
  auto* rest = new Chunk{chunk->ptr + bytes, chunk->size - bytes};
  rest->region = chunk->region;
  rest->prev = chunk;
  rest->next = chunk->next;
  if (chunk->next != nullptr) chunk->next->prev = rest;
  chunk->next = rest;
  chunk->size = bytes;
  chunks_[rest->ptr] = rest;
  MarkFree(rest);
}

void BFCAllocator::MarkFree(Chunk* chunk) { free_.insert({chunk->size, chunk->ptr}); }

void BFCAllocator::ReleaseCached() {
  std::lock_guard<std::mutex> lock(mu_);
  for (Region& r : regions_) {
    if (r.size == 0) continue;
    Chunk* chunk = chunks_.at(r.base);
    if (chunk->in_use || chunk->size != r.size) continue;  // something lives there
    Unfree(chunk);
    chunks_.erase(chunk->ptr);
    delete chunk;
    sub_->Free(r.base, r.size);
    reserved_ -= r.size;
    r.size = 0;
  }
  stats_.bytes_reserved = static_cast<int64_t>(reserved_);
}

std::optional<AllocatorStats> BFCAllocator::Stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace runnel
