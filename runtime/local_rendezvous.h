// The in-process rendezvous: a table where a Send leaves a tensor and a Recv picks it up,
// whichever comes first. One serves one step.
#pragma once

#include <deque>
#include <mutex>

#include "absl/container/flat_hash_map.h"
#include "core/rendezvous.h"

namespace runnel {

class LocalRendezvous final : public Rendezvous {
 public:
  ~LocalRendezvous() override;
  absl::Status Send(const std::string& key, const Tensor& value, bool is_dead) override;
  void RecvAsync(const std::string& key, DoneCallback done) override;
  void StartAbort(const absl::Status& status) override;

 private:
  struct Item {
    bool has_value = false;
    Tensor value;
    bool is_dead = false;
    std::deque<DoneCallback> waiters;
  };
  std::mutex mu_;
  absl::flat_hash_map<std::string, Item> table_;
  absl::Status abort_status_;
};

}  // namespace runnel
