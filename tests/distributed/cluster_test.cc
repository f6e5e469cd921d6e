// A cluster in one process: a ps task and a worker task, each a Server on loopback, and
// master sessions running graphs across them.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "distributed/master_session.h"
#include "distributed/server.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::ConstNode;
using testing::MakeNode;
using testing::MakeTensor;
using testing::Values;

constexpr char kPs[] = "/job:ps/replica:0/task:0";
constexpr char kWorker[] = "/job:worker/replica:0/task:0";

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t size = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  close(fd);
  return ntohs(address.sin_port);
}

NodeDef On(const std::string& device, NodeDef node) {
  node.set_device(device);
  return node;
}

// w (on ps) = [1, 2] once initialized; y = x * w + 1 on the worker.
GraphDef ModelGraph(bool pinned) {
  const std::string ps = pinned ? kPs : "", worker = pinned ? kWorker : "";
  return testing::MakeGraph(
      {On(ps, MakeNode("w", "VariableV2", {},
                       {{"shape", MakeAttr(PartialShape{2})}, {"dtype", MakeAttr(DT_FLOAT)}})),
       On(ps, ConstNode("init", MakeTensor<float>({2}, {1, 2}))),
       On(ps, MakeNode("w/Assign", "Assign", {"w", "init"})),
       On(ps, MakeNode("w/read", "Identity", {"w"})),
       On(worker, testing::PlaceholderNode("x", DT_FLOAT, PartialShape{-1, 2})),
       On(worker, MakeNode("xw", "Mul", {"x", "w/read"})),
       On(worker, ConstNode("one", Tensor::Scalar<float>(1))),
       On(worker, MakeNode("y", "AddV2", {"xw", "one"}))});
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    JobDef* ps = cluster_.add_job();
    ps->set_name("ps");
    (*ps->mutable_tasks())[0] = absl::StrCat("localhost:", FreePort());
    JobDef* worker = cluster_.add_job();
    worker->set_name("worker");
    (*worker->mutable_tasks())[0] = absl::StrCat("localhost:", FreePort());
    ps_ = StartServer("ps");
    worker_ = StartServer("worker");
  }

  std::unique_ptr<Server> StartServer(const std::string& job) {
    ServerDef def;
    def.cluster = cluster_;
    def.job = job;
    auto server = Server::Create(def);
    EXPECT_TRUE(server.ok()) << server.status();
    EXPECT_TRUE((*server)->Start().ok());
    return *std::move(server);
  }

  std::unique_ptr<MasterSession> Connect(const GraphDef& def, SessionOptions options = {}) {
    auto graph = Graph::FromGraphDef(def);
    EXPECT_TRUE(graph.ok()) << graph.status();
    auto session = MasterSession::Create(std::shared_ptr<Graph>(*std::move(graph)),
                                         worker_->target(), options);
    EXPECT_TRUE(session.ok()) << session.status();
    return *std::move(session);
  }

  static absl::Status Run(Session* session,
                          const std::vector<std::pair<std::string, Tensor>>& feeds,
                          const std::vector<std::string>& fetches,
                          const std::vector<std::string>& targets, std::vector<Tensor>* out) {
    return session->Run(RunOptions(), feeds, fetches, targets, out, nullptr);
  }

  ClusterDef cluster_;
  std::unique_ptr<Server> ps_, worker_;
};

TEST_F(ClusterTest, SessionListsEveryTasksDevicesTargetFirst) {
  auto session = Connect(ModelGraph(true));
  std::vector<std::string> names;
  for (const auto& d : session->devices().devices()) names.push_back(d->name());
  EXPECT_EQ(names, (std::vector<std::string>{absl::StrCat(kWorker, "/device:CPU:0"),
                                             absl::StrCat(kPs, "/device:CPU:0")}));
  EXPECT_EQ(session->devices().devices()[1]->incarnation(),
            ps_->devices()->devices().devices()[0]->incarnation());
}

TEST_F(ClusterTest, GraphPinnedToTwoTasksGivesTheOneProcessResult) {
  const Tensor x = MakeTensor<float>({3, 2}, {1, 2, 3, 4, -5, 0.5f});
  auto local = DirectSession::Create(ModelGraph(false)).value();
  std::vector<Tensor> expected, got;
  ASSERT_TRUE(local->Run({}, {}, {"w/Assign"}, &expected).ok());
  ASSERT_TRUE(local->Run({{"x", x}}, {"y", "w/read"}, {}, &expected).ok());

  auto session = Connect(ModelGraph(true));
  ASSERT_TRUE(Run(session.get(), {}, {}, {"w/Assign"}, &got).ok());
  absl::Status status = Run(session.get(), {{"x", x}}, {"y", "w/read"}, {}, &got);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(Values<float>(got[0]), Values<float>(expected[0]));
  EXPECT_EQ(Values<float>(got[1]), (std::vector<float>{1, 2}));
  // The variable lives on the ps task, not the worker.
  EXPECT_TRUE(ps_->devices()->devices().devices()[0]->resource_manager()->Contains("w"));
  EXPECT_FALSE(worker_->devices()->devices().devices()[0]->resource_manager()->Contains("w"));
}

TEST_F(ClusterTest, PsVariablesOutliveSessionsAndAreSharedByName) {
  std::vector<Tensor> out;
  {
    auto first = Connect(ModelGraph(true));
    ASSERT_TRUE(Run(first.get(), {}, {}, {"w/Assign"}, &out).ok());
  }
  auto second = Connect(ModelGraph(true));  // never initializes w
  ASSERT_TRUE(Run(second.get(), {}, {"w/read"}, {}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{1, 2}));
}

TEST_F(ClusterTest, StepsThatEndWellAreCleanedUpByTheNextRunAndAtClose) {
  auto session = Connect(ModelGraph(true));
  std::vector<Tensor> out;
  ASSERT_TRUE(Run(session.get(), {}, {}, {"w/Assign"}, &out).ok());
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(
        Run(session.get(), {{"x", MakeTensor<float>({1, 2}, {1, 1})}}, {"y"}, {}, &out).ok());
  }
  // Only the last step waits for its clean-up, on each task.
  EXPECT_EQ(ps_->worker()->LiveSteps(), 1u);
  EXPECT_EQ(worker_->worker()->LiveSteps(), 1u);
  session->Close();
  for (int i = 0; i < 100 && ps_->worker()->LiveSteps() > 0; ++i)
    absl::SleepFor(absl::Milliseconds(10));
  EXPECT_EQ(ps_->worker()->LiveSteps(), 0u);
  EXPECT_EQ(worker_->worker()->LiveSteps(), 0u);
}

TEST_F(ClusterTest, KernelErrorOnOneTaskFailsTheRunNamingTheNode) {
  auto session = Connect(ModelGraph(true));
  std::vector<Tensor> out;
  // w is not initialized on this fresh ps.
  absl::Status status =
      Run(session.get(), {{"x", MakeTensor<float>({1, 2}, {1, 1})}}, {"y"}, {}, &out);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;
  EXPECT_NE(status.message().find("uninitialized value w"), std::string::npos) << status;
}

// A dequeue from an empty queue on `device` waits until the run's deadline.
GraphDef EmptyQueueGraph(const std::string& device) {
  const std::vector<DataType> types{DT_FLOAT};
  return testing::MakeGraph(
      {On(device, MakeNode("q", "FIFOQueue", {}, {{"component_types", MakeAttr(types)}})),
       On(device, MakeNode("take", "QueueDequeue", {"q"}, {{"component_types", MakeAttr(types)}})),
       On(kWorker, ConstNode("one", Tensor::Scalar<float>(1)))});
}

TEST_F(ClusterTest, RunPastItsDeadlineFailsOnEitherTaskAndTheSessionGoesOn) {
  // The worker task is in this process (called directly), the ps through its socket.
  for (const char* task : {kWorker, kPs}) {
    auto session = Connect(EmptyQueueGraph(task));
    RunOptions options;
    options.set_timeout_in_ms(200);
    std::vector<Tensor> out;
    absl::Status status = session->Run(options, {}, {"take"}, {}, &out, nullptr);
    EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << task << ": " << status;
    ASSERT_TRUE(Run(session.get(), {}, {"one"}, {}, &out).ok()) << task;
    EXPECT_EQ(Values<float>(out[0]), std::vector<float>{1});
  }
}

TEST_F(ClusterTest, ShortStepsWaitedForAwakeGetTheirAnswersInOrderAndKeepTheirDeadline) {
  // Runs whose recent answers came within a millisecond wait for the next ones awake.
  const std::vector<DataType> types{DT_FLOAT};
  auto session = Connect(testing::MakeGraph(
      {On(kPs, MakeNode("q", "FIFOQueue", {}, {{"component_types", MakeAttr(types)}})),
       On(kWorker, testing::PlaceholderNode("x", DT_FLOAT)),
       On(kPs, MakeNode("put", "QueueEnqueue", {"q", "x"}, {{"Tcomponents", MakeAttr(types)}})),
       On(kPs, MakeNode("take", "QueueDequeue", {"q"}, {{"component_types", MakeAttr(types)}})),
       On(kWorker, MakeNode("twice", "AddV2", {"take", "take"}))}));
  std::vector<Tensor> out;
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(Run(session.get(), {{"x", Tensor::Scalar<float>(i)}}, {}, {"put"}, &out).ok());
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(Run(session.get(), {}, {"twice"}, {}, &out).ok()) << i;
    EXPECT_EQ(Values<float>(out[0]), std::vector<float>{2.0f * i});
  }
  RunOptions options;
  options.set_timeout_in_ms(200);
  const absl::Time start = absl::Now();
  absl::Status status = session->Run(options, {}, {"twice"}, {}, &out, nullptr);
  EXPECT_TRUE(absl::IsDeadlineExceeded(status)) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(ClusterTest, DeadPsFailsTheRunWithUnavailableNamingItThenRecovers) {
  SessionOptions options;
  ASSERT_TRUE(options.Set("peer_timeout_ms", "1000").ok());
  auto session = Connect(ModelGraph(true), options);
  std::vector<Tensor> out;
  ASSERT_TRUE(Run(session.get(), {}, {}, {"w/Assign"}, &out).ok());
  const Tensor x = MakeTensor<float>({1, 2}, {1, 1});
  ASSERT_TRUE(Run(session.get(), {{"x", x}}, {"y"}, {}, &out).ok());

  ps_.reset();
  const absl::Time start = absl::Now();
  absl::Status status = Run(session.get(), {{"x", x}}, {"y"}, {}, &out);
  EXPECT_TRUE(absl::IsUnavailable(status)) << status;
  EXPECT_NE(status.message().find(kPs), std::string::npos) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(4));

  // A new ps (new incarnation, no variables): the session registers its graphs again.
  ps_ = StartServer("ps");
  status = Run(session.get(), {{"x", x}}, {"y"}, {}, &out);
  EXPECT_TRUE(absl::IsFailedPrecondition(status)) << status;  // w is gone with the old ps
  ASSERT_TRUE(Run(session.get(), {}, {}, {"w/Assign"}, &out).ok());
  ASSERT_TRUE(Run(session.get(), {{"x", x}}, {"y"}, {}, &out).ok());
  EXPECT_EQ(Values<float>(out[0]), (std::vector<float>{2, 3}));
}

TEST_F(ClusterTest, ASessionOnAStoppedServerFailsItsRunsAtOnce) {
  // The session calls the ps through its target server's transport, which stops with it.
  auto session = Connect(ModelGraph(true));
  std::vector<Tensor> out;
  ASSERT_TRUE(Run(session.get(), {}, {}, {"w/Assign"}, &out).ok());
  worker_->Stop();
  const absl::Time start = absl::Now();
  absl::Status status =
      Run(session.get(), {{"x", MakeTensor<float>({1, 2}, {1, 1})}}, {"y"}, {}, &out);
  EXPECT_TRUE(absl::IsCancelled(status)) << status;
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  session.reset();  // closing does not wait on the stopped transport either
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
}

TEST_F(ClusterTest, TracedRunReportsEveryTasksNodes) {
  auto session = Connect(ModelGraph(true));
  std::vector<Tensor> out;
  ASSERT_TRUE(Run(session.get(), {}, {}, {"w/Assign"}, &out).ok());
  RunOptions options;
  options.set_trace_level(RunOptions::FULL_TRACE);
  options.set_output_partition_graphs(true);
  RunMetadata metadata;
  ASSERT_TRUE(
      session->Run(options, {{"x", MakeTensor<float>({1, 2}, {1, 1})}}, {"y"}, {}, &out, &metadata)
          .ok());
  std::set<std::string> devices;
  for (const auto& d : metadata.step_stats().dev_stats()) devices.insert(d.device());
  EXPECT_EQ(devices.size(), 2u);
  EXPECT_EQ(metadata.partition_graphs_size(), 2);
}

TEST_F(ClusterTest, UnknownTargetAndBadClusterAreErrors) {
  EXPECT_FALSE(EndpointOf("http://x:1").ok());
  EXPECT_FALSE(EndpointOf("runnel://nohost").ok());
  // localhost needs no /etc/hosts (a minimal container has none).
  EXPECT_EQ(EndpointOf("runnel://localhost:5").value(), "tcp://127.0.0.1:5");
  EXPECT_EQ(EndpointOf("grpc://ps0:2222").value(), "tcp://ps0:2222");
  ServerDef def;
  def.cluster = cluster_;
  def.job = "chief";
  auto server = Server::Create(def);
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("no job 'chief'"), std::string::npos);
}

}  // namespace
}  // namespace runnel
