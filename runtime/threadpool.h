// A fixed-size pool of worker threads with one shared FIFO queue.
#pragma once

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

 private:
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// The number of cores this process may use.
int NumSchedulableCpus();

}  // namespace runnel
