// A fixed-size pool of worker threads with one shared FIFO queue; idle workers spin briefly
// before they sleep, so bursts of small tasks do not pay a wake-up each.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/threadpool.h"

namespace runnel {

class WorkerThreadPool final : public ThreadPool {
 public:
  WorkerThreadPool(std::string name, int num_threads);
  ~WorkerThreadPool() override;  // finishes queued work, then joins

  int NumThreads() const override { return static_cast<int>(threads_.size()); }
  void Schedule(std::function<void()> fn) override;

  // How many threads of all the pools of this process are running work now.
  static int Busy() { return busy_.load(std::memory_order_relaxed); }

 private:
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  std::atomic<size_t> queued_{0};  // queue_.size(), readable without the lock
  int sleeping_ = 0;               // workers waiting on cv_
  bool stopping_ = false;
  std::vector<std::thread> threads_;
  static std::atomic<int> busy_;
};

// The number of cores this process may use.
int NumSchedulableCpus();

}  // namespace runnel
