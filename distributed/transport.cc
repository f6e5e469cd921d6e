#include "distributed/transport.h"

#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace runnel {
namespace {

using Clock = std::chrono::steady_clock;

absl::Status ZmqError(const std::string& what) {
  return absl::InternalError(absl::StrCat(what, ": ", zmq_strerror(zmq_errno())));
}

struct ZmqMessage {
  zmq_msg_t msg;
  ZmqMessage() { zmq_msg_init(&msg); }
  ~ZmqMessage() { zmq_msg_close(&msg); }
};

// Every frame of one waiting message; false when none is waiting.
bool ReceiveFrames(void* socket, std::vector<Frame>* frames) {
  frames->clear();
  for (;;) {
    auto part = std::make_shared<ZmqMessage>();
    if (zmq_msg_recv(&part->msg, socket, ZMQ_DONTWAIT) < 0) return !frames->empty();
    const bool more = zmq_msg_more(&part->msg);
    frames->push_back(Frame{zmq_msg_data(&part->msg), zmq_msg_size(&part->msg), part});
    if (!more) return true;
  }
}

void FreeString(void*, void* hint) { delete static_cast<std::string*>(hint); }
void FreeTensor(void*, void* hint) { delete static_cast<Tensor*>(hint); }

bool SendFrame(void* socket, zmq_msg_t* msg, bool more) {
  if (zmq_msg_send(msg, socket, more ? ZMQ_SNDMORE : 0) >= 0) return true;
  zmq_msg_close(msg);
  return false;
}

// Sends `message` after an optional routing frame; its buffers go out without a copy and
// are released when ZeroMQ is done with them.
bool SendMessage(void* socket, const std::string* routing_id, EncodedMessage message) {
  zmq_msg_t msg;
  if (routing_id != nullptr) {
    zmq_msg_init_size(&msg, routing_id->size());
    std::memcpy(zmq_msg_data(&msg), routing_id->data(), routing_id->size());
    if (!SendFrame(socket, &msg, true)) return false;
  }
  auto* envelope = new std::string(std::move(message.envelope));
  zmq_msg_init_data(&msg, envelope->data(), envelope->size(), FreeString, envelope);
  if (!SendFrame(socket, &msg, !message.tensors.empty())) return false;
  for (size_t i = 0; i < message.tensors.size(); ++i) {
    const Tensor& t = message.tensors[i];
    const bool more = i + 1 < message.tensors.size();
    if (!t.IsInitialized() || t.dtype() == DT_STRING || t.TotalBytes() == 0) {
      zmq_msg_init_size(&msg, 0);
    } else {
      auto* held = new Tensor(t);
      zmq_msg_init_data(&msg, held->raw_data(), held->TotalBytes(), FreeTensor, held);
    }
    // A failed frame mid-message: ZeroMQ drops the parts already queued.
    if (!SendFrame(socket, &msg, more)) return false;
  }
  return true;
}

void SetInt(void* socket, int option, int value) {
  zmq_setsockopt(socket, option, &value, sizeof(value));
}

}  // namespace

class Transport::Loop : public std::enable_shared_from_this<Transport::Loop> {
 public:
  explicit Loop(const TransportOptions& options) : options_(options) {}

  absl::Status Start() {
    context_ = zmq_ctx_new();
    if (context_ == nullptr) return ZmqError("zmq_ctx_new");
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (wake_fd_ < 0) return absl::InternalError("eventfd failed");
    if (!options_.server_secret_key.empty()) {
      // The ZAP handler: ZeroMQ asks it whether a client's CURVE key may connect.
      zap_ = zmq_socket(context_, ZMQ_REP);
      if (zmq_bind(zap_, "inproc://zeromq.zap.01") != 0) return ZmqError("binding the ZAP handler");
      authorized_.insert(options_.authorized_clients.begin(), options_.authorized_clients.end());
    }
    thread_ = std::thread([this] { Run(); });
    return absl::OkStatus();
  }

  // Ends the I/O thread: outstanding calls fail, sockets close.
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    Wake();
    if (thread_.joinable()) thread_.join();
  }

  ~Loop() {
    if (wake_fd_ >= 0) close(wake_fd_);
    if (context_ != nullptr) zmq_ctx_term(context_);
  }

  absl::StatusOr<std::string> Bind(const std::string& endpoint, Handler handler) {
    absl::StatusOr<std::string> bound;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return absl::CancelledError("the transport was shut down");
      bound = BindLocked(endpoint, std::move(handler));
    }
    Wake();  // the I/O thread polls the new socket from now on
    return bound;
  }

  void Call(const std::string& endpoint, const std::string& peer_name, Message request,
            ResponseCallback done, absl::Duration timeout, absl::Duration peer_timeout) {
    const uint64_t call_id = next_call_id_.fetch_add(1);
    request.envelope.set_call_id(call_id);
    absl::StatusOr<EncodedMessage> encoded = Encode(std::move(request));
    if (!encoded.ok()) {
      done(encoded.status());
      return;
    }
    const auto now = Clock::now();
    const auto deadline = timeout == absl::InfiniteDuration()
                              ? Clock::time_point::max()
                              : now + absl::ToChronoNanoseconds(timeout);
    const auto silence = absl::ToChronoNanoseconds(
        peer_timeout > absl::ZeroDuration() ? peer_timeout : options_.peer_timeout);
    absl::Status failure;
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) {
        failure = absl::CancelledError("the transport was shut down (its server stopped)");
      } else {
        Peer& peer = PeerFor(endpoint, peer_name, &wake);
        if (peer.socket == nullptr) {
          failure = absl::UnavailableError(absl::StrCat("cannot connect to ", peer.name));
        } else {
          if (peer.calls == 0) {
            peer.last_heard = now;
            peer.last_ping = now;
          }
          if (SendMessage(peer.socket, nullptr, *std::move(encoded))) {
            peer.pending[call_id] = Pending{std::move(done), deadline, silence};
            ++peer.calls;
            last_call_ = now;
            // A loop asleep without a timeout would not keep this call's deadline.
            wake = wake || sleeping_ || HasInput(peer.socket);
          } else {
            failure = absl::UnavailableError(
                absl::StrCat("sending to ", peer.name, " failed: ", zmq_strerror(zmq_errno())));
          }
        }
      }
    }
    if (!failure.ok()) {
      done(failure);
      return;
    }
    if (wake) Wake();
  }

  void ResetPeer(const std::string& endpoint, const absl::Status& status) {
    std::vector<Answer> answers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = peers_.find(endpoint);
      if (it != peers_.end()) FailPeer(*it->second, status, &answers);
    }
    Deliver(answers);
  }

  bool PollAnswers() {
    std::vector<Answer> answers;
    bool more = false;
    {
      std::unique_lock<std::mutex> lock(mu_, std::try_to_lock);
      if (!lock.owns_lock() || stopping_) return false;
      for (auto& [endpoint, peer] : peers_) {
        if (peer->calls > 0) more = TakeAnswers(*peer, &answers) || more;
      }
    }
    // Taking input may have taken ZMQ_FD's notice of the rest.
    if (more) Wake();
    const bool any = !answers.empty();
    Deliver(answers);
    return any;
  }

 private:
  struct Server {
    void* socket = nullptr;
    int fd = -1;  // ZMQ_FD: readable when the socket may have input
    Handler handler;
  };
  struct Pending {
    ResponseCallback done;  // null for a ping
    Clock::time_point deadline;
    Clock::duration silence;  // how long the peer may say nothing while this waits
  };
  struct Peer {
    std::string endpoint, name;
    void* socket = nullptr;
    int fd = -1;
    void* monitor = nullptr;  // handshake failures (a refused key)
    int monitor_fd = -1;
    std::map<uint64_t, Pending> pending;
    int calls = 0;  // pending entries that are not pings
    Clock::time_point last_heard, last_ping;
  };
  // A callback and what it gets, collected under the lock and run after it.
  using Answer = std::pair<ResponseCallback, absl::StatusOr<Message>>;
  struct Request {
    Server* server;
    std::vector<Frame> frames;
  };

  static bool HasInput(void* socket) {
    int events = 0;
    size_t size = sizeof(events);
    return zmq_getsockopt(socket, ZMQ_EVENTS, &events, &size) == 0 && (events & ZMQ_POLLIN);
  }

  static int FdOf(void* socket) {
    int fd = -1;
    size_t size = sizeof(fd);
    zmq_getsockopt(socket, ZMQ_FD, &fd, &size);
    return fd;
  }

  void Wake() {
    const uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }

  static void Deliver(std::vector<Answer>& answers) {
    for (auto& [done, response] : answers) done(std::move(response));
    answers.clear();
  }

  absl::StatusOr<std::string> BindLocked(const std::string& endpoint, Handler handler) {
    auto server = std::make_unique<Server>();
    server->socket = zmq_socket(context_, ZMQ_ROUTER);
    server->handler = std::move(handler);
    SetInt(server->socket, ZMQ_LINGER, 0);
    SetInt(server->socket, ZMQ_SNDHWM, 0);
    SetInt(server->socket, ZMQ_RCVHWM, 0);
    SetInt(server->socket, ZMQ_ROUTER_MANDATORY, 1);
    const int64_t max_size = static_cast<int64_t>(
        std::max(options_.limits.max_envelope_bytes, options_.limits.max_tensor_bytes));
    zmq_setsockopt(server->socket, ZMQ_MAXMSGSIZE, &max_size, sizeof(max_size));
    if (!options_.server_secret_key.empty()) {
      SetInt(server->socket, ZMQ_CURVE_SERVER, 1);
      if (zmq_setsockopt(server->socket, ZMQ_CURVE_SECRETKEY, options_.server_secret_key.data(),
                         options_.server_secret_key.size()) != 0) {
        zmq_close(server->socket);
        return absl::InvalidArgumentError("the server's CURVE secret key is not a Z85 key");
      }
    }
    if (zmq_bind(server->socket, endpoint.c_str()) != 0) {
      absl::Status error = absl::UnavailableError(
          absl::StrCat("cannot listen on ", endpoint, ": ", zmq_strerror(zmq_errno())));
      zmq_close(server->socket);
      return error;
    }
    char bound[256];
    size_t size = sizeof(bound);
    zmq_getsockopt(server->socket, ZMQ_LAST_ENDPOINT, bound, &size);
    server->fd = FdOf(server->socket);
    servers_.push_back(std::move(server));
    return std::string(bound);
  }

  // The peer at `endpoint`, connected if it can be; `connected` is set when that made a
  // socket the I/O thread does not poll yet.
  Peer& PeerFor(const std::string& endpoint, const std::string& name, bool* connected) {
    auto& peer = peers_[endpoint];
    if (peer == nullptr) {
      peer = std::make_unique<Peer>();
      peer->endpoint = endpoint;
      peer->name = absl::StrCat(name.empty() ? "a peer" : name, " at ", endpoint);
    }
    if (peer->socket == nullptr) {
      Connect(*peer);
      *connected = true;
    }
    return *peer;
  }

  void Connect(Peer& peer) {
    void* socket = zmq_socket(context_, ZMQ_DEALER);
    SetInt(socket, ZMQ_LINGER, 0);
    SetInt(socket, ZMQ_SNDHWM, 0);
    SetInt(socket, ZMQ_RCVHWM, 0);
    if (!options_.server_public_key.empty()) {
      const auto& o = options_;
      zmq_setsockopt(socket, ZMQ_CURVE_SERVERKEY, o.server_public_key.data(),
                     o.server_public_key.size());
      zmq_setsockopt(socket, ZMQ_CURVE_PUBLICKEY, o.client_public_key.data(),
                     o.client_public_key.size());
      zmq_setsockopt(socket, ZMQ_CURVE_SECRETKEY, o.client_secret_key.data(),
                     o.client_secret_key.size());
    }
    const std::string monitor_address = absl::StrCat("inproc://runnel-monitor-", next_monitor_++);
    // Not ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: that is a system error (a peer that closed
    // mid-handshake as it exits), which ZeroMQ retries and the peer timeout judges.
    zmq_socket_monitor(socket, monitor_address.c_str(),
                       ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL);
    void* monitor = zmq_socket(context_, ZMQ_PAIR);
    SetInt(monitor, ZMQ_LINGER, 0);
    zmq_connect(monitor, monitor_address.c_str());
    if (zmq_connect(socket, peer.endpoint.c_str()) != 0) {
      zmq_close(monitor);
      zmq_close(socket);
      return;
    }
    peer.socket = socket;
    peer.fd = FdOf(socket);
    peer.monitor = monitor;
    peer.monitor_fd = FdOf(monitor);
  }

  // Fails the peer's calls (into `answers`) and drops its socket, with whatever is still
  // queued there.
  void FailPeer(Peer& peer, const absl::Status& status, std::vector<Answer>* answers) {
    std::map<uint64_t, Pending> pending;
    pending.swap(peer.pending);
    peer.calls = 0;
    if (peer.socket != nullptr) {
      zmq_socket_monitor(peer.socket, nullptr, 0);
      zmq_close(peer.socket);
      zmq_close(peer.monitor);
      peer.socket = peer.monitor = nullptr;
      peer.fd = peer.monitor_fd = -1;
    }
    for (auto& [id, p] : pending) {
      if (p.done) answers->emplace_back(std::move(p.done), status);
    }
  }

  // The I/O thread: waits on every socket's ZMQ_FD (a file descriptor: polling it does not
  // touch the socket) and the wake-up eventfd, takes what arrived under the lock, and hands
  // it to handlers and callbacks after it. Other threads send on the sockets themselves,
  // under the lock; a send can take the notice of input that ZMQ_FD gave (ZeroMQ processes
  // the socket's commands then), so the sender checks ZMQ_EVENTS and wakes this thread
  // when input is waiting.
  void Run() {
    std::vector<Request> requests;
    std::vector<Answer> answers;
    bool more = false;  // a socket had more than one turn's worth of input
    for (;;) {
      std::vector<zmq_pollitem_t> items;
      items.push_back({nullptr, wake_fd_, ZMQ_POLLIN, 0});
      if (zap_ != nullptr) items.push_back({zap_, 0, ZMQ_POLLIN, 0});
      long timeout_ms;
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (stopping_) break;
        bool waiting = false;
        for (const auto& s : servers_) items.push_back({nullptr, s->fd, ZMQ_POLLIN, 0});
        for (auto& [endpoint, peer] : peers_) {
          if (peer->socket == nullptr) continue;
          items.push_back({nullptr, peer->fd, ZMQ_POLLIN, 0});
          items.push_back({nullptr, peer->monitor_fd, ZMQ_POLLIN, 0});
          waiting = waiting || peer->calls > 0;
        }
        // With calls outstanding, or lately, wake often enough to ping, to notice silence
        // and to keep deadlines; a call made while this sleeps without a timeout wakes it.
        const bool busy = waiting || Clock::now() - last_call_ < std::chrono::seconds(1);
        timeout_ms = more ? 0 : busy ? 20 : -1;
        sleeping_ = timeout_ms < 0;
      }
      if (zmq_poll(items.data(), static_cast<int>(items.size()), timeout_ms) < 0 &&
          zmq_errno() != EINTR) {
        break;
      }
      if (items[0].revents & ZMQ_POLLIN) {
        uint64_t count;
        (void)!read(wake_fd_, &count, sizeof(count));
      }
      if (zap_ != nullptr && (items[1].revents & ZMQ_POLLIN)) AnswerZap();
      {
        std::lock_guard<std::mutex> lock(mu_);
        sleeping_ = false;
        more = false;
        for (const auto& server : servers_) more = TakeRequests(server.get(), &requests) || more;
        for (auto& [endpoint, peer] : peers_) more = TakeAnswers(*peer, &answers) || more;
        more = CheckPeers(&answers) || more;
      }
      for (Request& request : requests) Serve(request);
      requests.clear();
      Deliver(answers);
    }
    // Stopping: every outstanding call fails; sockets close.
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [endpoint, peer] : peers_) {
        FailPeer(*peer, absl::CancelledError("the transport is shutting down"), &answers);
      }
      for (auto& s : servers_) zmq_close(s->socket);
      servers_.clear();
    }
    Deliver(answers);
    if (zap_ != nullptr) zmq_close(zap_);
  }

  // Takes up to a turn's worth of requests; true if more are waiting.
  bool TakeRequests(Server* server, std::vector<Request>* requests) {
    // Bounded, so one busy client cannot starve the others or the pings.
    for (int n = 0; n < 64; ++n) {
      Request request{server, {}};
      if (!ReceiveFrames(server->socket, &request.frames)) return false;
      requests->push_back(std::move(request));
    }
    return HasInput(server->socket);
  }

  void Serve(Request& request) {
    std::vector<Frame>& frames = request.frames;
    if (frames.size() < 2) return;  // no routing id: nothing to answer
    auto routing =
        std::make_shared<std::string>(static_cast<const char*>(frames[0].data), frames[0].size);
    frames.erase(frames.begin());
    const Frame envelope_frame = frames[0];
    absl::StatusOr<Message> message = Decode(std::move(frames), options_.limits);
    Server* server = request.server;
    Responder respond =
        MakeResponder(server, routing, message.ok() ? message->envelope.call_id() : 0);
    if (!message.ok()) {
      Message error;
      SetStatus(AppendToMessage(message.status(), " (message rejected)"), &error.envelope);
      // The call id, when the envelope itself parsed, so the caller's call fails now.
      Envelope envelope;
      if (envelope_frame.size <= options_.limits.max_envelope_bytes &&
          envelope.ParseFromArray(envelope_frame.data, static_cast<int>(envelope_frame.size))) {
        respond = MakeResponder(server, routing, envelope.call_id());
      }
      respond(std::move(error));
      return;
    }
    if (message->envelope.has_ping()) {
      Message pong;
      pong.envelope.mutable_ping_response();
      respond(std::move(pong));
      return;
    }
    server->handler(*std::move(message), std::move(respond));
  }

  Responder MakeResponder(Server* server, std::shared_ptr<std::string> routing, uint64_t call_id) {
    std::weak_ptr<Loop> self = weak_from_this();
    return [self, server, routing, call_id](Message response) {
      std::shared_ptr<Loop> loop = self.lock();
      if (loop == nullptr) return;
      response.envelope.set_call_id(call_id);
      absl::StatusOr<EncodedMessage> encoded = Encode(std::move(response));
      if (!encoded.ok()) {
        Message error;
        SetStatus(encoded.status(), &error.envelope);
        error.envelope.set_call_id(call_id);
        encoded = Encode(std::move(error));
      }
      loop->SendAnswer(server, *routing, *std::move(encoded));
    };
  }

  // Sends an answer from whichever thread made it.
  void SendAnswer(Server* server, const std::string& routing, EncodedMessage message) {
    bool wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (servers_.empty()) return;  // closed: the transport stopped
      // A client that went away: nothing to do (ROUTER_MANDATORY reports it).
      SendMessage(server->socket, &routing, std::move(message));
      wake = HasInput(server->socket);
    }
    if (wake) Wake();
  }

  // Takes up to a turn's worth of the peer's answers (and a refused handshake); true if
  // more are waiting.
  bool TakeAnswers(Peer& peer, std::vector<Answer>* answers) {
    std::vector<Frame> frames;
    for (int n = 0; n < 64; ++n) {
      if (peer.socket == nullptr || !ReceiveFrames(peer.socket, &frames)) {
        ReadMonitor(peer, answers);
        return false;
      }
      peer.last_heard = Clock::now();
      absl::StatusOr<Message> response = Decode(std::move(frames), options_.limits);
      if (!response.ok()) {
        // A peer that sends what cannot be read is not one to wait for.
        FailPeer(peer,
                 absl::UnavailableError(absl::StrCat(
                     peer.name, " sent a malformed message: ", response.status().message())),
                 answers);
        return false;
      }
      auto it = peer.pending.find(response->envelope.call_id());
      if (it == peer.pending.end()) continue;  // a late answer to a call that failed
      Pending pending = std::move(it->second);
      peer.pending.erase(it);
      if (!pending.done) continue;  // a ping's answer
      --peer.calls;
      absl::Status status = StatusOf(response->envelope);
      if (status.ok()) {
        answers->emplace_back(std::move(pending.done), *std::move(response));
      } else {
        answers->emplace_back(std::move(pending.done), status);
      }
    }
    return HasInput(peer.socket);
  }

  void ReadMonitor(Peer& peer, std::vector<Answer>* answers) {
    std::vector<Frame> frames;
    while (peer.monitor != nullptr && ReceiveFrames(peer.monitor, &frames)) {
      if (frames.empty() || frames[0].size < 2) continue;
      uint16_t event;
      std::memcpy(&event, frames[0].data, sizeof(event));
      FailPeer(peer,
               absl::UnauthenticatedError(absl::StrCat(
                   peer.name, event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                                  ? " refused this client's CURVE key"
                                  : " refused the connection (CURVE keys on one side only?)")),
               answers);
    }
  }

  // Fails silent peers and late calls, pings the peers waited for; true if a ping's send
  // found input waiting (its ZMQ_FD notice may be gone).
  bool CheckPeers(std::vector<Answer>* answers) {
    bool input = false;
    const auto now = Clock::now();
    for (auto& [endpoint, p] : peers_) {
      Peer& peer = *p;
      if (peer.calls == 0) {
        peer.pending.clear();  // only pings: their answers no longer matter
        continue;
      }
      auto silence = Clock::duration::max();
      for (const auto& [id, pending] : peer.pending) {
        if (pending.done) silence = std::min(silence, pending.silence);
      }
      const auto heartbeat =
          std::min<Clock::duration>(absl::ToChronoNanoseconds(options_.heartbeat), silence / 4);
      if (now - peer.last_heard > silence) {
        FailPeer(
            peer,
            absl::UnavailableError(absl::StrCat(peer.name, " did not answer for ",
                                                absl::FormatDuration(absl::FromChrono(silence)),
                                                " (the task died, stopped or is unreachable)")),
            answers);
        continue;
      }
      for (auto it = peer.pending.begin(); it != peer.pending.end();) {
        if (it->second.done && now > it->second.deadline) {
          answers->emplace_back(std::move(it->second.done),
                                absl::DeadlineExceededError(absl::StrCat(
                                    "the call to ", peer.name, " ran past its deadline")));
          it = peer.pending.erase(it);
          --peer.calls;
        } else {
          ++it;
        }
      }
      if (peer.calls > 0 && now - peer.last_ping >= heartbeat) {
        peer.last_ping = now;
        Message ping;
        const uint64_t id = next_call_id_.fetch_add(1);
        ping.envelope.set_call_id(id);
        ping.envelope.mutable_ping();
        absl::StatusOr<EncodedMessage> encoded = Encode(std::move(ping));
        if (encoded.ok() && SendMessage(peer.socket, nullptr, *std::move(encoded))) {
          peer.pending[id] = Pending{nullptr, Clock::time_point::max(), silence};
        }
        input = input || HasInput(peer.socket);
      }
    }
    return input;
  }

  void AnswerZap() {
    std::vector<Frame> frames;
    if (!ReceiveFrames(zap_, &frames) || frames.size() < 6) return;
    auto text = [&](size_t i) {
      return std::string(static_cast<const char*>(frames[i].data), frames[i].size);
    };
    bool allowed = false;
    if (text(5) == "CURVE" && frames.size() >= 7 && frames[6].size == 32) {
      char z85[41];
      zmq_z85_encode(z85, static_cast<const uint8_t*>(frames[6].data), 32);
      allowed = authorized_.count(z85) > 0;
    }
    const std::string reply[] = {
        text(0), text(1), allowed ? "200" : "400", allowed ? "OK" : "client key not authorized",
        "",      ""};
    for (int i = 0; i < 6; ++i) {
      zmq_send(zap_, reply[i].data(), reply[i].size(), i < 5 ? ZMQ_SNDMORE : 0);
    }
  }

  TransportOptions options_;
  void* context_ = nullptr;
  int wake_fd_ = -1;
  void* zap_ = nullptr;  // the I/O thread's alone
  std::set<std::string> authorized_;
  std::thread thread_;
  std::atomic<uint64_t> next_call_id_{1};
  std::mutex mu_;  // guards the rest, the sockets in it included
  bool stopping_ = false;
  bool sleeping_ = false;  // the I/O thread waits without a timeout
  Clock::time_point last_call_;
  std::vector<std::unique_ptr<Server>> servers_;
  std::map<std::string, std::unique_ptr<Peer>> peers_;
  int next_monitor_ = 0;
};

absl::StatusOr<std::unique_ptr<Transport>> Transport::Create(const TransportOptions& options) {
  std::unique_ptr<Transport> transport(new Transport(options));
  auto loop = std::make_shared<Loop>(options);
  RETURN_IF_ERROR(loop->Start());
  transport->loop_ = std::shared_ptr<Loop>(std::move(loop));
  return transport;
}

Transport::~Transport() { Shutdown(); }

void Transport::Shutdown() {
  if (loop_ != nullptr) loop_->Stop();
}

absl::StatusOr<std::string> Transport::Bind(const std::string& endpoint, Handler handler) {
  return loop_->Bind(endpoint, std::move(handler));
}

void Transport::Call(const std::string& endpoint, const std::string& peer_name, Message request,
                     ResponseCallback done, absl::Duration timeout, absl::Duration peer_timeout) {
  loop_->Call(endpoint, peer_name, std::move(request), std::move(done), timeout, peer_timeout);
}

bool Transport::PollAnswers() { return loop_->PollAnswers(); }

void Transport::ResetPeer(const std::string& endpoint, const absl::Status& status) {
  loop_->ResetPeer(endpoint, status);
}

absl::StatusOr<std::pair<std::string, std::string>> Transport::NewCurveKeyPair() {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) return ZmqError("zmq_curve_keypair");
  return std::make_pair(std::string(public_key), std::string(secret_key));
}

}  // namespace runnel
