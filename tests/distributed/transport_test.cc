// The transport's calls: answers and errors come back to the right call, a silent peer
// fails calls with UnavailableError naming it, CURVE refuses unknown clients.
#include "distributed/transport.h"

#include <atomic>
#include <future>
#include <mutex>
#include <thread>
#include <vector>

#include "distributed/curve_keys.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

absl::StatusOr<Message> CallAndWait(Transport* client, const std::string& endpoint, Message request,
                                    absl::Duration timeout = absl::InfiniteDuration()) {
  std::promise<absl::StatusOr<Message>> promise;
  client->Call(
      endpoint, "/job:test/replica:0/task:0", std::move(request),
      [&](absl::StatusOr<Message> response) { promise.set_value(std::move(response)); }, timeout);
  return promise.get_future().get();
}

// A server that doubles the float tensor it gets, or answers with the error asked for.
std::string StartDoubler(Transport* server) {
  auto bound = server->Bind("tcp://127.0.0.1:*", [](Message request, Transport::Responder respond) {
    Message response;
    if (request.envelope.has_cleanup_step()) {
      SetStatus(absl::FailedPreconditionError(request.envelope.cleanup_step().abort_message()),
                &response.envelope);
    } else {
      Tensor in = request.tensors.at(0);
      Tensor out(DT_FLOAT, in.shape());
      for (int64_t i = 0; i < in.NumElements(); ++i) out.data<float>()[i] = 2 * in.data<float>()[i];
      response.tensors.push_back(out);
    }
    respond(std::move(response));
  });
  EXPECT_TRUE(bound.ok()) << bound.status();
  return *bound;
}

TEST(Transport, CallCarriesTensorsBothWays) {
  auto server = Transport::Create().value();
  auto client = Transport::Create().value();
  const std::string endpoint = StartDoubler(server.get());
  for (int n : {1, 1 << 20}) {  // small, and 4 MiB in one frame
    Message request;
    request.envelope.mutable_run_graph();
    Tensor t(DT_FLOAT, TensorShape({n}));
    for (int i = 0; i < n; ++i) t.data<float>()[i] = static_cast<float>(i % 1000);
    request.tensors.push_back(t);
    absl::StatusOr<Message> response = CallAndWait(client.get(), endpoint, std::move(request));
    ASSERT_TRUE(response.ok()) << response.status();
    const Tensor& out = response->tensors.at(0);
    ASSERT_EQ(out.NumElements(), n);
    EXPECT_EQ(out.data<float>()[n - 1], 2.0f * static_cast<float>((n - 1) % 1000));
  }
}

TEST(Transport, PolledAnswersReachTheirCallsOnceOnThePollingThread) {
  // The I/O thread and a thread in PollAnswers race for the answers: each call still gets
  // its own, once, and what PollAnswers took ran on its thread.
  auto server = Transport::Create().value();
  auto client = Transport::Create().value();
  const std::string endpoint = StartDoubler(server.get());
  constexpr int kCalls = 300;
  std::mutex mu;
  std::vector<int> answers(kCalls, 0);
  std::vector<float> values(kCalls, 0);
  int on_this_thread = 0;
  std::atomic<int> answered{0};
  const std::thread::id me = std::this_thread::get_id();
  for (int i = 0; i < kCalls; ++i) {
    Message request;
    request.envelope.mutable_run_graph();
    request.tensors.push_back(Tensor::Scalar<float>(i));
    client->Call(endpoint, "/job:test/replica:0/task:0", std::move(request),
                 [&, i](absl::StatusOr<Message> response) {
                   std::lock_guard<std::mutex> lock(mu);
                   ++answers[i];
                   if (response.ok()) values[i] = response->tensors.at(0).data<float>()[0];
                   if (std::this_thread::get_id() == me) ++on_this_thread;
                   ++answered;
                 });
  }
  int polls_that_delivered = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (answered < kCalls && absl::Now() < deadline) {
    if (client->PollAnswers()) ++polls_that_delivered;
  }
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_EQ(answered, kCalls);
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_EQ(answers[i], 1) << i;
    EXPECT_EQ(values[i], 2.0f * i) << i;
  }
  EXPECT_LE(polls_that_delivered, on_this_thread);
  client->Shutdown();
  EXPECT_FALSE(client->PollAnswers());
}

TEST(Transport, HandlerErrorsReachTheCaller) {
  auto server = Transport::Create().value();
  auto client = Transport::Create().value();
  const std::string endpoint = StartDoubler(server.get());
  Message request;
  request.envelope.mutable_cleanup_step()->set_abort_message("no such step");
  absl::StatusOr<Message> response = CallAndWait(client.get(), endpoint, std::move(request));
  EXPECT_EQ(response.status(), absl::FailedPreconditionError("no such step"));
}

TEST(Transport, SilentPeerFailsCallsWithUnavailableNamingIt) {
  // A server whose handler never answers: its I/O thread still answers pings, so the call
  // waits; a server that is gone answers nothing, and the call fails.
  TransportOptions options;
  options.heartbeat = absl::Milliseconds(50);
  options.peer_timeout = absl::Milliseconds(400);
  auto client = Transport::Create(options).value();
  std::string endpoint;
  {
    auto server = Transport::Create().value();
    endpoint = server->Bind("tcp://127.0.0.1:*", [](Message, Transport::Responder) {}).value();
  }
  const absl::Time start = absl::Now();
  Message request;
  request.envelope.mutable_get_status();
  absl::StatusOr<Message> response = CallAndWait(client.get(), endpoint, std::move(request));
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_NE(response.status().message().find("/job:test/replica:0/task:0"), std::string::npos);
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

TEST(Transport, ACallsOwnPeerTimeoutReplacesTheTransports) {
  auto client = Transport::Create().value();  // 5 s of silence allowed
  std::string endpoint;
  {
    auto server = Transport::Create().value();
    endpoint = server->Bind("tcp://127.0.0.1:*", [](Message, Transport::Responder) {}).value();
  }
  const absl::Time start = absl::Now();
  std::promise<absl::StatusOr<Message>> promise;
  Message request;
  request.envelope.mutable_get_status();
  client->Call(
      endpoint, "/job:test/replica:0/task:0", std::move(request),
      [&](absl::StatusOr<Message> response) { promise.set_value(std::move(response)); },
      absl::InfiniteDuration(), /*peer_timeout=*/absl::Milliseconds(300));
  absl::StatusOr<Message> response = promise.get_future().get();
  EXPECT_TRUE(absl::IsUnavailable(response.status())) << response.status();
  EXPECT_NE(response.status().message().find("300ms"), std::string::npos) << response.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
}

TEST(Transport, CallsAfterShutdownFailAtOnce) {
  auto server = Transport::Create().value();
  auto client = Transport::Create().value();
  const std::string endpoint = StartDoubler(server.get());
  client->Shutdown();
  Message request;
  request.envelope.mutable_run_graph();
  request.tensors.push_back(testing::MakeTensor<float>({1}, {1}));
  absl::StatusOr<Message> response = CallAndWait(client.get(), endpoint, std::move(request));
  EXPECT_TRUE(absl::IsCancelled(response.status())) << response.status();
}

TEST(Transport, BusyPeerThatAnswersPingsIsNotDead) {
  TransportOptions options;
  options.heartbeat = absl::Milliseconds(50);
  options.peer_timeout = absl::Milliseconds(300);
  auto server = Transport::Create().value();
  auto client = Transport::Create(options).value();
  // Answers a second after the request, from another thread: longer than the timeout.
  const std::string endpoint = server
                                   ->Bind("tcp://127.0.0.1:*",
                                          [](Message, Transport::Responder respond) {
                                            std::thread([respond] {
                                              std::this_thread::sleep_for(std::chrono::seconds(1));
                                              respond(Message());
                                            }).detach();
                                          })
                                   .value();
  Message request;
  request.envelope.mutable_get_status();
  EXPECT_TRUE(CallAndWait(client.get(), endpoint, std::move(request)).ok());
}

TEST(Transport, CallDeadline) {
  auto server = Transport::Create().value();
  auto client = Transport::Create().value();
  const std::string endpoint =
      server->Bind("tcp://127.0.0.1:*", [](Message, Transport::Responder) {}).value();
  Message request;
  request.envelope.mutable_get_status();
  absl::StatusOr<Message> response =
      CallAndWait(client.get(), endpoint, std::move(request), absl::Milliseconds(100));
  EXPECT_TRUE(absl::IsDeadlineExceeded(response.status())) << response.status();
}

TEST(Transport, CurveAcceptsAuthorizedClientsOnly) {
  const std::string dir = ::testing::TempDir() + "/runnel_curve_keys";
  ASSERT_TRUE(WriteCurveKeys(dir).ok());
  TransportOptions server_options;
  ASSERT_TRUE(LoadCurveKeys(dir, &server_options).ok());
  auto server = Transport::Create(server_options).value();
  const std::string endpoint = StartDoubler(server.get());

  TransportOptions good = server_options;
  good.server_secret_key.clear();
  TransportOptions wrong = good;
  auto pair = Transport::NewCurveKeyPair().value();
  wrong.client_public_key = pair.first;
  wrong.client_secret_key = pair.second;
  TransportOptions plain;
  for (const auto& [options, accepted] : std::vector<std::pair<TransportOptions, bool>>{
           {good, true}, {wrong, false}, {plain, false}}) {
    TransportOptions o = options;
    o.peer_timeout = absl::Seconds(2);
    auto client = Transport::Create(o).value();
    Message request;
    request.envelope.mutable_run_graph();
    request.tensors.push_back(Tensor::Scalar<float>(3));
    absl::StatusOr<Message> response = CallAndWait(client.get(), endpoint, std::move(request));
    EXPECT_EQ(response.ok(), accepted) << response.status();
    if (accepted) {
      EXPECT_EQ(response->tensors.at(0).scalar<float>(), 6.0f);
    } else {
      EXPECT_TRUE(absl::IsUnauthenticated(response.status()) ||
                  absl::IsUnavailable(response.status()))
          << response.status();
    }
  }
}

}  // namespace
}  // namespace runnel
