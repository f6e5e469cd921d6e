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
    if (item.sent) {
      return absl::InternalError(absl::StrCat("rendezvous key '", key, "' was sent twice"));
    }
    item.sent = true;
    if (!item.waiter) {
      item.value = value;
      item.is_dead = is_dead;
      return absl::OkStatus();
    }
    waiter = std::move(item.waiter);
    item.waiter = nullptr;
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
      Item& item = table_[key];
      if (item.received) {
        status = absl::InternalError(absl::StrCat("rendezvous key '", key, "' was received twice"));
      } else {
        item.received = true;
        if (!item.sent) {
          item.waiter = std::move(done);
          return;
        }
        value = std::move(item.value);
        is_dead = item.is_dead;
      }
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
      if (item.waiter) waiters.push_back(std::move(item.waiter));
    }
    table_.clear();
  }
  Tensor none;
  for (auto& w : waiters) w(status, none, false);
}

}  // namespace runnel
