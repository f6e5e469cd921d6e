#include "core/threadpool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace runnel {

void ThreadPool::ParallelFor(int64_t total, int64_t cost_per_unit,
                             const std::function<void(int64_t, int64_t)>& fn) {
  constexpr int64_t kMinCostPerShard = 20000;  // cycles; below this a hand-off costs more
  if (total <= 0) return;
  int64_t max_shards =
      std::max<int64_t>(1, total * std::max<int64_t>(cost_per_unit, 1) / kMinCostPerShard);
  int64_t shards = std::min<int64_t>({max_shards, total, int64_t{NumThreads()} * 4});
  if (shards <= 1 || NumThreads() <= 1) {
    fn(0, total);
    return;
  }
  struct State {
    std::atomic<int64_t> next{0};
    std::atomic<int64_t> remaining;
    std::mutex mu;
    std::condition_variable cv;
  };
  auto state = std::make_shared<State>();
  state->remaining = shards;
  int64_t block = (total + shards - 1) / shards;
  auto work = [state, block, total, shards, &fn] {
    for (int64_t s; (s = state->next.fetch_add(1)) < shards;) {
      fn(s * block, std::min(total, (s + 1) * block));
      if (state->remaining.fetch_sub(1) == 1) {
        std::lock_guard<std::mutex> lock(state->mu);
        state->cv.notify_all();
      }
    }
  };
  int helpers = static_cast<int>(std::min<int64_t>(NumThreads(), shards - 1));
  // Helpers hold `fn` by reference: they touch it only while a shard is unfinished, and
  // this call returns only after every shard is finished.
  for (int i = 0; i < helpers; ++i) Schedule(work);
  work();
  // The helpers' last shards are usually a few microseconds from done.
  SpinWait([&] { return state->remaining.load() == 0; }, std::chrono::microseconds(100));
  std::unique_lock<std::mutex> lock(state->mu);
  state->cv.wait(lock, [&] { return state->remaining.load() == 0; });
}

}  // namespace runnel
