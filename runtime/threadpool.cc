#include "runtime/threadpool.h"

#include <sched.h>

namespace runnel {

std::atomic<int> WorkerThreadPool::busy_{0};

WorkerThreadPool::WorkerThreadPool(std::string name, int num_threads) {
  for (int i = 0; i < std::max(1, num_threads); ++i) {
    threads_.emplace_back([this] { WorkerLoop(); });
  }
}

WorkerThreadPool::~WorkerThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerThreadPool::Schedule(std::function<void()> fn) {
  bool wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(fn));
    queued_.store(queue_.size(), std::memory_order_relaxed);
    wake = sleeping_ > 0;
  }
  if (wake) cv_.notify_one();
}

void WorkerThreadPool::WorkerLoop() {
  for (;;) {
    // Work tends to come in bursts (one node's successors, a kernel's shards): a worker
    // that just finished looks for the next item awake for a while before it sleeps.
    SpinWait([this] { return queued_.load(std::memory_order_relaxed) != 0; },
             std::chrono::microseconds(30));
    std::function<void()> fn;
    {
      std::unique_lock<std::mutex> lock(mu_);
      ++sleeping_;
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      --sleeping_;
      if (queue_.empty()) return;  // stopping, and nothing left to do
      fn = std::move(queue_.front());
      queue_.pop_front();
      queued_.store(queue_.size(), std::memory_order_relaxed);
    }
    busy_.fetch_add(1, std::memory_order_relaxed);
    fn();
    busy_.fetch_sub(1, std::memory_order_relaxed);
  }
}

int NumSchedulableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace runnel
