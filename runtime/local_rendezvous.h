// The in-process rendezvous: a table where a Send leaves a tensor and a Recv picks it up,
// whichever comes first. One serves one step, in which each key is sent once and received
// once: a second Send or Recv of a key is an error, never a wait.
#pragma once

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
    bool sent = false;
    Tensor value;
    bool is_dead = false;
    DoneCallback waiter;  // a Recv that came first
    bool received = false;
  };
  std::mutex mu_;
  absl::flat_hash_map<std::string, Item> table_;
  absl::Status abort_status_;
};

}  // namespace runnel
