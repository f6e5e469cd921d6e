#include "core/cancellation.h"

#include <vector>

namespace runnel {

bool CancellationManager::Register(Token* token, Callback callback) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) return false;
  *token = next_++;
  callbacks_.emplace(*token, std::move(callback));
  return true;
}

void CancellationManager::Deregister(Token token) {
  std::unique_lock<std::mutex> lock(mu_);
  if (callbacks_.erase(token) > 0) return;
  if (running_ && runner_ == std::this_thread::get_id()) return;
  done_.wait(lock, [&] { return !running_; });
}

void CancellationManager::StartCancel(const absl::Status& status) {
  std::map<Token, Callback> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cancelled_) return;
    cancelled_ = true;
    running_ = true;
    runner_ = std::this_thread::get_id();
    callbacks.swap(callbacks_);
  }
  for (auto& [token, callback] : callbacks) callback(status);
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = false;
  }
  done_.notify_all();
}

bool CancellationManager::IsCancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

}  // namespace runnel
