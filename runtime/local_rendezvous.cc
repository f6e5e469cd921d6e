#include "runtime/local_rendezvous.h"

#include "absl/strings/str_cat.h"

namespace runnel {

LocalRendezvous::~LocalRendezvous() {
  StartAbort(absl::CancelledError("rendezvous destroyed before the value was sent"));
}

absl::Status LocalRendezvous::Send(const std::string& key, const Tensor& value, bool is_dead) {
  DoneCallback waiter;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!abort_status_.ok()) return abort_status_;
    Item& item = table_[key];
    if (item.has_value) {
      return absl::InternalError(absl::StrCat("rendezvous key '", key, "' was sent twice"));
    }
    if (item.waiters.empty()) {
      item.has_value = true;
      item.value = value;
      item.is_dead = is_dead;
      return absl::OkStatus();
    }
    waiter = std::move(item.waiters.front());
    table_.erase(key);
  }
  waiter(absl::OkStatus(), value, is_dead);
  return absl::OkStatus();
}

void LocalRendezvous::RecvAsync(const std::string& key, DoneCallback done) {
  Tensor value;
  bool is_dead = false;
  absl::Status status;
  {
    std::lock_guard<std::mutex> lock(mu_);
    status = abort_status_;
    if (status.ok()) {
      auto it = table_.find(key);
      if (it == table_.end() || !it->second.has_value) {
        table_[key].waiters.push_back(std::move(done));
        return;
      }
      value = std::move(it->second.value);
      is_dead = it->second.is_dead;
      table_.erase(it);
    }
  }
  done(status, value, is_dead);  // outside the lock: `done` may send or receive again
}

void LocalRendezvous::StartAbort(const absl::Status& status) {
  std::vector<DoneCallback> waiters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (abort_status_.ok()) abort_status_ = status;
    for (auto& [key, item] : table_) {
      for (auto& w : item.waiters) waiters.push_back(std::move(w));
    }
    table_.clear();
  }
  Tensor none;
  for (auto& w : waiters) w(status, none, false);
}

}  // namespace runnel
