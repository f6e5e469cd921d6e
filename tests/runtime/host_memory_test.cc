// On a device whose memory is not the host's, a kernel's HostMemory arguments are read and
// written in host memory and the rest in the device's: the executor copies an input that
// arrives in the other kind of memory, and allocates HostMemory outputs on the host.
#include <cstdlib>
#include <cstring>

#include "core/bfc_allocator.h"
#include "core/kernel_registry.h"
#include "core/op_registry.h"
#include "gtest/gtest.h"
#include "runtime/executor.h"
#include "runtime/partition_runner.h"
#include "runtime/step_stats.h"
#include "runtime/threadpool.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

Allocator* DeviceMemory() { return testing::DeviceMemoryAllocator::Get(); }

// A "device" of type CPU (so CPU kernels serve it) whose tensors are in "device memory".
class OwnMemoryDevice : public Device {
 public:
  explicit OwnMemoryDevice(ThreadPool* pool)
      : Device(DeviceName{"localhost", 0, 0, "CPU", 9}, DeviceMemory(), pool) {}
  bool HostMemory() const override { return false; }
  absl::StatusOr<Tensor> CopyToHost(const Tensor& t) override {
    ++to_host;
    Tensor out(t.dtype(), t.shape(), CpuAllocator());
    std::memcpy(out.raw_data(), t.raw_data(), t.TotalBytes());
    return out;
  }
  absl::StatusOr<Tensor> CopyFromHost(const Tensor& t) override {
    ++from_host;
    Tensor out(t.dtype(), t.shape(), DeviceMemory());
    std::memcpy(out.raw_data(), t.raw_data(), t.TotalBytes());
    return out;
  }
  int to_host = 0, from_host = 0;
};

// Reads its `dims` in host memory and writes `out` there; fails otherwise.
REGISTER_OP("TestOnlyHostDims").Input("dims: int32").Output("out: int32");
class HostDimsOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    RN_REQUIRE(ctx->input(0).on_host(), "dims should be in host memory");
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, ctx->input(0).shape(), &out));
    RN_REQUIRE(out->on_host(), "out should be in host memory");
    std::memcpy(out->raw_data(), ctx->input(0).raw_data(), out->TotalBytes());
    return absl::OkStatus();
  }
};
REGISTER_KERNEL(
    KernelDefBuilder("TestOnlyHostDims").Device(kCpu).HostMemory("dims").HostMemory("out"),
    HostDimsOp);

// Reads its input in device memory.
REGISTER_OP("TestOnlyOnDevice").Input("x: int32").Output("y: int32");
class OnDeviceOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    RN_REQUIRE(!ctx->input(0).on_host(), "x should be in device memory");
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
};
REGISTER_KERNEL(KernelDefBuilder("TestOnlyOnDevice").Device(kCpu), OnDeviceOp);

TEST(HostMemory, InputsAndOutputsAreWhereTheKernelKeepsThem) {
  WorkerThreadPool pool("test", 1);
  OwnMemoryDevice device(&pool);
  // The constant is host memory; Neg reads and writes the device's; TestOnlyHostDims reads
  // and writes the host's; TestOnlyOnDevice reads the device's again.
  NodeDef retval = testing::MakeNode("ret", "_Retval", {"back"},
                                     {{"T", MakeAttr(DT_INT32)}, {"index", MakeAttr(int64_t{0})}});
  auto graph = Graph::FromGraphDef(
      testing::MakeGraph({testing::ConstNode("x", testing::MakeTensor<int32_t>({3}, {1, 2, 3})),
                          testing::MakeNode("neg", "Neg", {"x"}),
                          testing::MakeNode("dims", "TestOnlyHostDims", {"neg"}),
                          testing::MakeNode("back", "TestOnlyOnDevice", {"dims"}), retval}),
      GraphBuildOptions{/*infer_shapes=*/false});
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto executor = Executor::Create(*std::move(graph), &device, [&](const Node& node) {
    return PartitionRunner::CreateKernel(node, &device);
  });
  ASSERT_TRUE(executor.ok()) << executor.status();
  CallFrame frame({}, 1);
  ExecutorArgs args;
  args.call_frame = &frame;
  absl::Status status = (*executor)->Run(args);
  ASSERT_TRUE(status.ok()) << status;
  const Tensor& result = frame.retvals()[0];
  EXPECT_FALSE(result.on_host());
  EXPECT_EQ(testing::Values<int32_t>(result), (std::vector<int32_t>{-1, -2, -3}));
  EXPECT_EQ(device.from_host, 2);  // the constant into Neg, dims into TestOnlyOnDevice
  EXPECT_EQ(device.to_host, 1);    // Neg's output into TestOnlyHostDims
}

// Host memory through the caching allocator a GPU uses, which keeps count.
class HostBlocks : public SubAllocator {
 public:
  void* Alloc(size_t bytes) override { return std::aligned_alloc(256, bytes); }
  void Free(void* ptr, size_t) override { std::free(ptr); }
};

TEST(HostMemory, AnAllocatorThatKeepsCountReportsEachNodesMemory) {
  BFCAllocator::Options options;
  options.memory_limit = 64 << 20;
  options.host_memory = true;
  BFCAllocator bfc("counting_bfc", std::make_unique<HostBlocks>(), options);
  WorkerThreadPool pool("test", 1);
  Device device(DeviceName{"localhost", 0, 0, "CPU", 0}, &bfc, &pool);
  NodeDef retval = testing::MakeNode("ret", "_Retval", {"mm"},
                                     {{"T", MakeAttr(DT_FLOAT)}, {"index", MakeAttr(int64_t{0})}});
  auto graph = Graph::FromGraphDef(
      testing::MakeGraph(
          {testing::MakeNode("x_arg", "_Arg", {},
                             {{"T", MakeAttr(DT_FLOAT)}, {"index", MakeAttr(int64_t{0})}}),
           testing::MakeNode("mm", "MatMul", {"x_arg", "x_arg"}), retval}),
      GraphBuildOptions{/*infer_shapes=*/false});
  ASSERT_TRUE(graph.ok()) << graph.status();
  auto executor = Executor::Create(*std::move(graph), &device, [&](const Node& node) {
    return PartitionRunner::CreateKernel(node, &device);
  });
  ASSERT_TRUE(executor.ok()) << executor.status();
  CallFrame frame({Tensor(DT_FLOAT, TensorShape{64, 64})}, 1);
  StepStatsCollector collector;
  ExecutorArgs args;
  args.call_frame = &frame;
  args.stats = &collector;
  const absl::Status status = (*executor)->Run(args);
  ASSERT_TRUE(status.ok()) << status;
  const StepStats stats = ToStepStats(collector.Take());
  bool found = false;
  for (const auto& dev : stats.dev_stats()) {
    for (const auto& node : dev.node_stats()) {
      if (node.node_name() != "mm") continue;
      found = true;
      ASSERT_EQ(node.memory_size(), 1);
      EXPECT_EQ(node.memory(0).allocator_name(), "counting_bfc");
      EXPECT_EQ(node.memory(0).total_bytes(), 64 * 64 * 4);  // its output
      EXPECT_GE(node.memory(0).allocator_bytes_in_use(), 64 * 64 * 4);
    }
  }
  EXPECT_TRUE(found) << stats.DebugString();
}

}  // namespace
}  // namespace runnel
