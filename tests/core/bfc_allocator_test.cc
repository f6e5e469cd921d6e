// The caching allocator a GPU's memory goes through, run over host memory: live pieces
// never overlap, freed neighbours merge back into whole regions, the smallest free chunk
// that fits is used, regions grow by doubling within the limit, and running out is an
// error that says how much was asked and held.
#include "core/bfc_allocator.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <random>

#include "core/tensor.h"
#include "gtest/gtest.h"

namespace runnel {
namespace {

// Host memory, with a record of the regions handed out.
class HostRegions : public SubAllocator {
 public:
  explicit HostRegions(std::vector<size_t>* sizes, int* live) : sizes_(sizes), live_(live) {}
  void* Alloc(size_t bytes) override {
    sizes_->push_back(bytes);
    ++*live_;
    return std::aligned_alloc(BFCAllocator::kMinAllocation, bytes);
  }
  void Free(void* ptr, size_t) override {
    --*live_;
    std::free(ptr);
  }

 private:
  std::vector<size_t>* sizes_;
  int* live_;
};

class BFCAllocatorTest : public ::testing::Test {
 protected:
  std::unique_ptr<BFCAllocator> Make(size_t limit, bool growth, size_t initial = 1 << 20) {
    BFCAllocator::Options options;
    options.memory_limit = limit;
    options.allow_growth = growth;
    options.initial_region = initial;
    options.host_memory = true;
    return std::make_unique<BFCAllocator>(
        "test_bfc", std::make_unique<HostRegions>(&regions_, &live_), options);
  }
  std::vector<size_t> regions_;
  int live_ = 0;
};

TEST_F(BFCAllocatorTest, FreedNeighboursMergeAndTheSmallestFittingHoleIsUsed) {
  auto a = Make(1 << 20, /*growth=*/false);
  // Five pieces in the one region, then holes of 1 KB (p1) and 4 KB (p3).
  void* p0 = a->Allocate(1024);
  void* p1 = a->Allocate(1024);
  void* p2 = a->Allocate(1024);
  void* p3 = a->Allocate(4096);
  void* p4 = a->Allocate(1024);
  ASSERT_EQ(regions_, std::vector<size_t>{1 << 20});
  for (void* p : {p0, p1, p2, p3, p4}) {
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % BFCAllocator::kMinAllocation, 0u);
  }
  EXPECT_EQ(static_cast<char*>(p1) - static_cast<char*>(p0), 1024);
  a->Deallocate(p3, 4096);
  a->Deallocate(p1, 1024);
  EXPECT_EQ(a->Allocate(1000), p1);  // the 1 KB hole, not the 4 KB one
  EXPECT_EQ(a->Allocate(3000), p3);  // then the 4 KB one, not the rest of the region
  // Everything freed in any order merges back: the whole region fits again.
  for (void* p : {p2, p0, p4, p1, p3}) a->Deallocate(p, 0);
  void* whole = a->Allocate(1 << 20);
  EXPECT_EQ(whole, p0);
  EXPECT_EQ(a->Allocate(256), nullptr);  // the limit is reached and nothing is free
  EXPECT_EQ(regions_.size(), 1u);
}

TEST_F(BFCAllocatorTest, RegionsDoubleWithinTheLimitAndEmptyOnesCanBeReleased) {
  auto a = Make(10 << 20, /*growth=*/true, /*initial=*/1 << 20);
  void* x = a->Allocate(512 << 10);  // the first region: 1 MiB
  void* y = a->Allocate(768 << 10);  // does not fit the rest: a second of 2 MiB
  void* z = a->Allocate(3 << 20);    // a third of max(3 MiB, 4 MiB)
  ASSERT_TRUE(x && y && z);
  EXPECT_EQ(regions_, (std::vector<size_t>{1 << 20, 2 << 20, 4 << 20}));
  // 7 MiB reserved, 3 MiB left: 4 MiB cannot come, 3 MiB can.
  EXPECT_EQ(a->Allocate(4 << 20), nullptr);
  void* w = a->Allocate(3 << 20);
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(regions_.back(), size_t{3} << 20);
  AllocatorStats stats = *a->Stats();
  EXPECT_EQ(stats.bytes_reserved, 10 << 20);
  EXPECT_EQ(stats.bytes_limit, 10 << 20);
  EXPECT_EQ(stats.num_allocs, 4);
  EXPECT_EQ(stats.largest_alloc_size, 3 << 20);
  a->Deallocate(y, 768 << 10);
  a->Deallocate(w, 3 << 20);
  a->ReleaseCached();  // y's and w's regions are empty; x's and z's are not
  EXPECT_EQ(live_, 2);
  EXPECT_EQ(a->Stats()->bytes_reserved, (1 << 20) + (4 << 20));
  a->Deallocate(x, 512 << 10);
  a->Deallocate(z, 3 << 20);
  EXPECT_EQ(a->Stats()->bytes_in_use, 0);
  EXPECT_GE(a->Stats()->peak_bytes_in_use, (512 << 10) + (768 << 10) + (6 << 20));
  a.reset();
  EXPECT_EQ(live_, 0);
}

TEST_F(BFCAllocatorTest, RandomAllocationsNeverOverlapAndAllMergeBack) {
  auto a = Make(64 << 20, /*growth=*/true, /*initial=*/1 << 20);
  std::mt19937 rng(7);
  std::map<char*, std::pair<size_t, unsigned char>> live;  // start -> (size, fill byte)
  int64_t in_use = 0;
  auto round = [](size_t n) { return std::max<size_t>(256, (n + 255) / 256 * 256); };
  for (int step = 0; step < 4000; ++step) {
    if (live.empty() || rng() % 2 != 0) {
      size_t size = 1 + rng() % (rng() % 8 == 0 ? (1 << 20) : 4096);
      auto* p = static_cast<char*>(a->Allocate(size));
      ASSERT_NE(p, nullptr) << step;
      const unsigned char fill = static_cast<unsigned char>(step);
      std::memset(p, fill, size);
      auto next = live.lower_bound(p);
      if (next != live.end()) {
        ASSERT_LE(p + size, next->first) << step;
      }
      if (next != live.begin()) {
        auto prev = std::prev(next);
        ASSERT_LE(prev->first + prev->second.first, p) << step;
      }
      live[p] = {size, fill};
    } else {
      auto it = live.begin();
      std::advance(it, rng() % live.size());
      // Nobody wrote over it meanwhile.
      for (size_t i = 0; i < it->second.first; i += 97) {
        ASSERT_EQ(static_cast<unsigned char>(it->first[i]), it->second.second) << step;
      }
      a->Deallocate(it->first, it->second.first);
      live.erase(it);
    }
    in_use = 0;
    for (auto& [p, v] : live) in_use += static_cast<int64_t>(round(v.first));
    ASSERT_LE(in_use, a->Stats()->bytes_in_use) << step;  // unsplit excess counts too
  }
  for (auto& [p, v] : live) a->Deallocate(p, v.first);
  EXPECT_EQ(a->Stats()->bytes_in_use, 0);
  // Each region is one free chunk again: ReleaseCached gives every one of them back.
  a->ReleaseCached();
  EXPECT_EQ(live_, 0);
  EXPECT_EQ(a->Stats()->bytes_reserved, 0);
}

TEST_F(BFCAllocatorTest, ATensorItCannotHoldSaysWhatWasAskedAndHeld) {
  auto a = Make(1 << 20, /*growth=*/true);
  Tensor held(DT_FLOAT, TensorShape({100000}), a.get());  // 400,128 bytes with rounding
  try {
    Tensor t(DT_FLOAT, TensorShape({200000}), a.get());
    FAIL() << "800,000 bytes more fit in a 1 MiB limit";
  } catch (const OutOfMemory& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("800000 bytes asked of test_bfc"), std::string::npos) << message;
    EXPECT_NE(message.find("holds 400128 bytes in use of 1048576"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace runnel
