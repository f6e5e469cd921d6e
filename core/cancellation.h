// Cancellation of one step's work: whoever holds a piece of the step (an executor running a
// partition, a remote call) registers a callback; the first failure cancels the step and
// every callback runs once, so the other partitions stop starting nodes instead of
// computing results no one will read.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>

#include "absl/status/status.h"

namespace runnel {

class CancellationManager {
 public:
  using Callback = std::function<void(const absl::Status&)>;
  using Token = int64_t;

  // Registers `callback`; false when the step is cancelled already (it is not registered).
  bool Register(Token* token, Callback callback);
  // After this returns, the token's callback is not running and will not run: it waits for
  // a cancellation in progress, unless that runs on this very thread (a callback's own work
  // ended the step).
  void Deregister(Token token);
  // Runs every registered callback once with `status`; later calls do nothing.
  void StartCancel(const absl::Status& status);
  bool IsCancelled() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable done_;
  std::map<Token, Callback> callbacks_;
  Token next_ = 0;
  bool cancelled_ = false;
  bool running_ = false;  // callbacks are running
  std::thread::id runner_;
};

}  // namespace runnel
