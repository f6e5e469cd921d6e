// The thread-pool interface kernels and the executor schedule work on. The runtime owns
// the implementation; kernels see only this.
#pragma once

#include <cstdint>
#include <functional>

namespace runnel {

class ThreadPool {
 public:
  virtual ~ThreadPool() = default;
  virtual int NumThreads() const = 0;
  virtual void Schedule(std::function<void()> fn) = 0;

  // Runs fn(begin, end) over shards of [0, total). `cost_per_unit` is a rough count of
  // cycles per unit; small loops run inline. The caller works on shards too, so a
  // ParallelFor inside a pool thread never waits on work only blocked threads could do.
  void ParallelFor(int64_t total, int64_t cost_per_unit,
                   const std::function<void(int64_t, int64_t)>& fn);
};

}  // namespace runnel
