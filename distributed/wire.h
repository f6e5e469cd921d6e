// A worker-protocol message as it travels: an Envelope (core/proto/worker.proto) and the
// tensors it carries, one ZeroMQ frame each. Encoding hands out each tensor's own buffer,
// so nothing large is copied; decoding validates every field a peer controls (sizes,
// dtypes, shapes, frame count) before anything is used, and a frame that holds a tensor's
// bytes becomes that tensor's buffer. ZeroMQ itself is not named here, so the decoder can
// be driven by a fuzzer (tests/distributed/wire_fuzzer.cc).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "core/proto/worker.pb.h"
#include "core/tensor.h"

namespace runnel {

struct Message {
  Envelope envelope;  // its `tensors` are filled by Encode from `tensors`
  std::vector<Tensor> tensors;
  std::vector<bool> is_dead;  // by tensor; empty means none is

  bool dead(size_t i) const { return i < is_dead.size() && is_dead[i]; }
};

// One frame as received: `owner` keeps `data` alive.
struct Frame {
  const void* data = nullptr;
  size_t size = 0;
  std::shared_ptr<void> owner;
};

struct WireLimits {
  size_t max_envelope_bytes = size_t{1} << 31;  // a registered graph carries its weights
  size_t max_tensor_bytes = size_t{1} << 36;
  int max_tensors = 1 << 16;
  int max_rank = 64;
};

// The envelope, serialized, then one frame per tensor (host memory only).
struct EncodedMessage {
  std::string envelope;
  std::vector<Tensor> tensors;  // their raw bytes are the data frames (strings: empty)
};
absl::StatusOr<EncodedMessage> Encode(Message message);

absl::StatusOr<Message> Decode(std::vector<Frame> frames, const WireLimits& limits = {});

// The status of a code and message a peer sent (an unknown code is kUnknown).
absl::Status MakeStatus(int code, const std::string& message);
// The status an envelope reports, and the reverse.
absl::Status StatusOf(const Envelope& envelope);
void SetStatus(const absl::Status& status, Envelope* envelope);

}  // namespace runnel
