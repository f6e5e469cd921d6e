// The ZeroMQ transport: request/response calls between processes. A server socket
// (ROUTER) takes requests and hands each to a handler, which answers when it likes, from
// any thread; a call to a peer goes through one DEALER socket per peer address. Calls and
// answers are sent by the thread that makes them, under the transport's lock (ZeroMQ
// sockets may change threads behind a memory barrier); one I/O thread waits for input,
// takes it under the lock and runs handlers and callbacks after it.
//
// A peer that does not answer at all for `peer_timeout` while calls to it are outstanding
// fails those calls with UnavailableError naming it: the I/O thread pings peers it waits
// for every `heartbeat` (at most a quarter of the peer timeout), and a server's I/O thread answers
// pings itself, so a long step or a tensor not yet sent never looks like a dead peer while a dead
// or stopped one is noticed within the timeout. Tensors travel as their own frames, sent from their
// buffers without a copy (distributed/wire.h).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "distributed/wire.h"

namespace runnel {

struct TransportOptions {
  absl::Duration heartbeat = absl::Milliseconds(500);
  absl::Duration peer_timeout = absl::Seconds(5);
  WireLimits limits;
  // CURVE: with a server secret key, every socket this transport binds requires CURVE and
  // accepts only clients whose public key is in `authorized_clients` (Z85, 40 characters
  // each); with a client key pair and the server's public key, every call is encrypted.
  std::string server_secret_key;
  std::vector<std::string> authorized_clients;
  std::string client_public_key, client_secret_key, server_public_key;
};

class Transport {
 public:
  // `respond` may be called once, from any thread; the call id is filled in.
  using Responder = std::function<void(Message response)>;
  using Handler = std::function<void(Message request, Responder respond)>;
  // Runs once (on the I/O thread, on a thread in PollAnswers, or on the caller's for an
  // error found at once): keep it short (hand expensive work to another thread).
  using ResponseCallback = std::function<void(absl::StatusOr<Message> response)>;

  static absl::StatusOr<std::unique_ptr<Transport>> Create(const TransportOptions& options = {});
  ~Transport();

  // Binds a server socket to `endpoint` ("tcp://127.0.0.1:2222"; port "*" picks a free one)
  // and returns the endpoint bound. `handler` runs on the I/O thread for each valid request
  // (pings are answered without it); a malformed one is answered with an error.
  absl::StatusOr<std::string> Bind(const std::string& endpoint, Handler handler);

  // Sends `request` to the server at `endpoint` (named `peer_name` in errors). `done` gets
  // the response, the error it reports, UnavailableError when the peer stops answering, or
  // DeadlineExceededError after `timeout`; after Shutdown, CancelledError. An error found
  // at once (the transport is shut down, the peer cannot be reached) reaches `done` before
  // Call returns, on the caller's thread; anything else on the I/O thread (or PollAnswers'). A
  // `peer_timeout` other than zero replaces the transport's for this call (a peer is given
  // up when silent for the shortest of its calls').
  void Call(const std::string& endpoint, const std::string& peer_name, Message request,
            ResponseCallback done, absl::Duration timeout = absl::InfiniteDuration(),
            absl::Duration peer_timeout = absl::ZeroDuration());

  // Takes the answers that have arrived and runs their callbacks on this thread, unless
  // another thread holds the transport's lock; true if it ran any. A caller waiting awake
  // for answers calls it between checks, so they reach it without waking the I/O thread.
  // Requests are left to the I/O thread, which serves them in order.
  bool PollAnswers();

  // Fails every outstanding call to `endpoint` with `status` and drops what is queued for it.
  void ResetPeer(const std::string& endpoint, const absl::Status& status);

  // Stops the I/O thread: outstanding calls fail, no handler or callback runs on it after
  // this returns, and later calls fail at once. The destructor does it too.
  void Shutdown();

  const TransportOptions& options() const { return options_; }

  // A new CURVE key pair (Z85 public, secret).
  static absl::StatusOr<std::pair<std::string, std::string>> NewCurveKeyPair();

 private:
  class Loop;
  explicit Transport(const TransportOptions& options) : options_(options) {}
  TransportOptions options_;
  std::shared_ptr<Loop> loop_;  // responders hold it weakly
};

}  // namespace runnel
