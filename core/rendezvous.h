// A rendezvous is where Send and Recv meet: a table of tensors keyed by
// "src_device;src_incarnation;dst_device;tensor_name;frame_iter". One rendezvous serves
// one step. The in-process table and the ZeroMQ one implement this same interface.
#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "core/tensor.h"

namespace runnel {

class Rendezvous {
 public:
  using DoneCallback =
      std::function<void(const absl::Status& status, const Tensor& value, bool is_dead)>;

  virtual ~Rendezvous() = default;
  virtual absl::Status Send(const std::string& key, const Tensor& value, bool is_dead) = 0;
  // Calls `done` once the value for `key` has been sent (perhaps at once, on this thread).
  virtual void RecvAsync(const std::string& key, DoneCallback done) = 0;
  // Fails every pending and future Recv with `status` (the step failed elsewhere).
  virtual void StartAbort(const absl::Status& status) = 0;

  static std::string CreateKey(const std::string& src_device, uint64_t src_incarnation,
                               const std::string& dst_device, const std::string& tensor_name,
                               const std::string& frame_iter = "0:0");
};

}  // namespace runnel
