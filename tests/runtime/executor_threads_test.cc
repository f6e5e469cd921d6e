// Which thread goes on with a step when an asynchronous kernel finishes: a thread that
// runs no node (a transport's I/O thread) keeps the cheap nodes that became ready and
// hands expensive ones to the pool; a callback that comes inside another node goes on on
// the pool.
#include <atomic>
#include <thread>

#include "core/kernel_registry.h"
#include "core/op_registry.h"
#include "gtest/gtest.h"
#include "runtime/executor.h"
#include "runtime/partition_runner.h"
#include "runtime/threadpool.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

// Finishes when the test says so, with the value 7, on the thread the test chooses.
REGISTER_OP("TestOnlyLater").Output("y: float");
std::function<void(absl::Status)> later_done;
class LaterOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext*) override { return absl::InternalError("async"); }
  bool IsAsync() const override { return true; }
  void ComputeAsync(OpKernelContext* ctx, std::function<void(absl::Status)> done) override {
    ctx->set_output(0, testing::MakeTensor<float>({}, {7}));
    later_done = std::move(done);
  }
};
REGISTER_KERNEL(KernelDefBuilder("TestOnlyLater").Device(kCpu), LaterOp);

// Counts what it is given to run, and runs it on its one thread.
class CountingPool : public ThreadPool {
 public:
  int NumThreads() const override { return 1; }
  void Schedule(std::function<void()> fn) override {
    ++scheduled;
    pool_.Schedule(std::move(fn));
  }
  std::atomic<int> scheduled{0};

 private:
  WorkerThreadPool pool_{"counting", 1};
};

// TestOnlyLater's big sibling: a million floats, 0, 1, 2, ...
REGISTER_OP("TestOnlyLaterBig").Output("y: float");
class LaterBigOp : public LaterOp {
 public:
  void ComputeAsync(OpKernelContext* ctx, std::function<void(absl::Status)> done) override {
    Tensor big(DT_FLOAT, TensorShape({1 << 20}));
    for (int i = 0; i < (1 << 20); ++i) big.data<float>()[i] = static_cast<float>(i);
    ctx->set_output(0, big);
    later_done = std::move(done);
  }
};
REGISTER_KERNEL(KernelDefBuilder("TestOnlyLaterBig").Device(kCpu), LaterBigOp);

// Finishes the pending TestOnlyLater from inside its own Compute, as a local Send does.
REGISTER_OP("TestOnlyFinishLater");
class FinishLaterOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext*) override {
    std::exchange(later_done, nullptr)(absl::OkStatus());
    return absl::OkStatus();
  }
};
REGISTER_KERNEL(KernelDefBuilder("TestOnlyFinishLater").Device(kCpu), FinishLaterOp);

class ExecutorThreads : public ::testing::Test {
 protected:
  std::unique_ptr<Executor> MakeExecutor(const GraphDef& def) {
    auto graph = Graph::FromGraphDef(def, GraphBuildOptions{/*infer_shapes=*/false});
    EXPECT_TRUE(graph.ok()) << graph.status();
    auto executor = Executor::Create(*std::move(graph), &device_, [&](const Node& node) {
      return PartitionRunner::CreateKernel(node, &device_);
    });
    EXPECT_TRUE(executor.ok()) << executor.status();
    return executor.ok() ? *std::move(executor) : nullptr;
  }

  // Starts a step of later -> neg -> ret (Neg is expensive, but its input is small); the
  // result comes to `status_` and `frame_`.
  void Start() {
    NodeDef retval = testing::MakeNode(
        "ret", "_Retval", {"neg"}, {{"T", MakeAttr(DT_FLOAT)}, {"index", MakeAttr(int64_t{0})}});
    executor_ =
        MakeExecutor(testing::MakeGraph({testing::MakeNode("later", "TestOnlyLater", {}),
                                         testing::MakeNode("neg", "Neg", {"later"}), retval}));
    ASSERT_NE(executor_, nullptr);
    ExecutorArgs args;
    args.call_frame = &frame_;
    args.inter_op_pool = &pool_;
    executor_->RunAsync(args, [this](absl::Status s) {
      status_ = s;
      finished_on_ = std::this_thread::get_id();
      finished_ = true;
    });
    ASSERT_NE(later_done, nullptr);
  }

  void WaitForEnd() {
    while (!finished_) std::this_thread::yield();
    ASSERT_TRUE(status_.ok()) << status_;
    EXPECT_EQ(testing::Values<float>(frame_.retvals()[0]), std::vector<float>{-7});
  }

  CountingPool pool_;
  Device device_{DeviceName{"localhost", 0, 0, "CPU", 0}, CpuAllocator(), &pool_};
  std::unique_ptr<Executor> executor_;
  CallFrame frame_{{}, 1};
  absl::Status status_;
  std::atomic<bool> finished_{false};
  std::thread::id finished_on_;
};

TEST_F(ExecutorThreads, ACallbackFromAThreadThatRunsNoNodeGoesOnThere) {
  Start();
  std::thread io([] { std::exchange(later_done, nullptr)(absl::OkStatus()); });
  const std::thread::id io_id = io.get_id();
  io.join();
  WaitForEnd();
  EXPECT_EQ(pool_.scheduled, 0);  // Neg and _Retval ran on `io`
  EXPECT_EQ(finished_on_, io_id);
}

// later_big[begin:end] -> ret, finished from a thread that runs no node: a slice is as
// cheap as what it copies, whatever the size of its input.
TEST_F(ExecutorThreads, ASliceIsJudgedByWhatItCopies) {
  for (int end : {3, 1 << 19}) {
    auto index = [](const std::string& name, int value) {
      return testing::ConstNode(name, testing::MakeTensor<int32_t>({1}, {value}));
    };
    executor_ = MakeExecutor(testing::MakeGraph(
        {testing::MakeNode("later", "TestOnlyLaterBig", {}), index("begin", 1), index("end", end),
         index("strides", 1),
         testing::MakeNode("slice", "StridedSlice", {"later", "begin", "end", "strides"}),
         testing::MakeNode("ret", "_Retval", {"slice"},
                           {{"T", MakeAttr(DT_FLOAT)}, {"index", MakeAttr(int64_t{0})}})}));
    ASSERT_NE(executor_, nullptr);
    CallFrame frame({}, 1);
    ExecutorArgs args;
    args.call_frame = &frame;
    args.inter_op_pool = &pool_;
    std::atomic<bool> finished{false};
    executor_->RunAsync(args, [&](absl::Status s) {
      EXPECT_TRUE(s.ok()) << s;
      finished = true;
    });
    const int before = pool_.scheduled;
    std::thread([] { std::exchange(later_done, nullptr)(absl::OkStatus()); }).join();
    while (!finished) std::this_thread::yield();
    const Tensor& out = frame.retvals()[0];
    ASSERT_EQ(out.NumElements(), end - 1);
    EXPECT_EQ(out.data<float>()[end - 2], static_cast<float>(end - 1));
    // Two elements run on the finishing thread; half a million go to the pool.
    EXPECT_EQ(pool_.scheduled - before, end == 3 ? 0 : 1) << "end " << end;
  }
}

TEST_F(ExecutorThreads, ACallbackInsideAnotherNodeGoesOnOnThePool) {
  Start();
  std::unique_ptr<Executor> sender =
      MakeExecutor(testing::MakeGraph({testing::MakeNode("finish", "TestOnlyFinishLater", {})}));
  ASSERT_NE(sender, nullptr);
  ASSERT_TRUE(sender->Run(ExecutorArgs()).ok());  // on this thread, no pool
  WaitForEnd();
  EXPECT_EQ(pool_.scheduled, 1);  // Neg, with _Retval after it
  EXPECT_NE(finished_on_, std::this_thread::get_id());
}

}  // namespace
}  // namespace runnel
