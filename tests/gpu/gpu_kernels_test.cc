// The GPU plug-in loads and registers its kernels on any machine of a CUDA build; on a
// machine with a GPU, every GPU kernel gives what the CPU kernel gives on the same inputs
// (the tests that need a GPU skip with a message where there is none).
#include <dlfcn.h>

#include <cmath>
#include <random>

#include "core/kernel_registry.h"
#include "gtest/gtest.h"
#include "runtime/device.h"
#include "runtime/direct_session.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::MakeNode;

TEST(GpuPlugin, LoadsAndRegistersItsKernelsWithOrWithoutAGpu) {
  // What librunnel.so does where the driver finds a GPU, done here unconditionally: the
  // plug-in beside it.
  Dl_info runnel;
  ASSERT_NE(dladdr(reinterpret_cast<void*>(&KernelRegistry::Global), &runnel), 0);
  std::string path = runnel.dli_fname;
  path = path.substr(0, path.rfind('/') + 1) + "librunnel_gpu.so";
  void* plugin = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  ASSERT_NE(plugin, nullptr) << dlerror();
  for (const char* op : {"MatMul", "AddV2", "Relu", "ReluGrad", "BiasAdd", "BiasAddGrad"}) {
    EXPECT_FALSE(KernelRegistry::Global()->KernelDefs(op, kGpu).empty()) << op;
  }
  // Without a driver or a device the factory adds nothing and fails nothing.
  auto devices = LocalDevices::Create(SessionOptions());
  ASSERT_TRUE(devices.ok()) << devices.status();
}

bool HaveGpu() {
  auto devices = LocalDevices::Create(SessionOptions());
  if (!devices.ok()) return false;
  for (const auto& d : (*devices)->devices().devices()) {
    if (d->device_type() == "GPU") return true;
  }
  return false;
}

Tensor Random(const TensorShape& shape, float low, float high, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(low, high);
  Tensor t(DT_FLOAT, shape);
  for (int64_t i = 0; i < t.NumElements(); ++i) t.data<float>()[i] = dist(rng);
  return t;
}

class GpuKernelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!HaveGpu()) GTEST_SKIP() << "no GPU device here (no driver, no GPU, or none visible)";
  }

  // `op` over placeholders in0, in1, … on `device`, placement not softened.
  static absl::StatusOr<Tensor> RunOn(const std::string& device, NodeDef op,
                                      const std::vector<Tensor>& inputs) {
    GraphDef graph;
    std::vector<std::pair<std::string, Tensor>> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string name = "in" + std::to_string(i);
      *graph.add_node() = testing::PlaceholderNode(name, DT_FLOAT);
      op.add_input(name);
      feeds.emplace_back(name, inputs[i]);
    }
    op.set_name("op");
    op.set_device(device);
    if (!op.attr().count("T")) (*op.mutable_attr())["T"] = MakeAttr(DT_FLOAT);
    *graph.add_node() = op;
    SessionOptions options;
    RETURN_IF_ERROR(options.Set("allow_soft_placement", "false"));
    ASSIGN_OR_RETURN(std::vector<Tensor> out, testing::RunGraph(graph, feeds, {"op:0"}, options));
    return out.at(0);
  }

  // The GPU's result is the CPU's within `tolerance` (relative to the magnitude).
  static void ExpectSameAsCpu(const NodeDef& op, const std::vector<Tensor>& inputs,
                              float tolerance = 1e-5f) {
    absl::StatusOr<Tensor> cpu = RunOn("/device:CPU:0", op, inputs);
    absl::StatusOr<Tensor> gpu = RunOn("/device:GPU:0", op, inputs);
    ASSERT_TRUE(cpu.ok()) << cpu.status();
    ASSERT_TRUE(gpu.ok()) << gpu.status();
    ASSERT_EQ(gpu->shape(), cpu->shape()) << op.op();
    ASSERT_TRUE(gpu->on_host());  // a fetch comes back to host memory
    for (int64_t i = 0; i < cpu->NumElements(); ++i) {
      const float want = cpu->data<float>()[i], got = gpu->data<float>()[i];
      ASSERT_NEAR(got, want, tolerance * (1 + std::fabs(want))) << op.op() << " element " << i;
    }
  }
};

TEST_F(GpuKernelTest, MatMulInEveryTransposition) {
  const int64_t m = 37, k = 53, n = 29;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      Tensor a = Random(ta ? TensorShape{k, m} : TensorShape{m, k}, -2, 2, 1);
      Tensor b = Random(tb ? TensorShape{n, k} : TensorShape{k, n}, -2, 2, 2);
      ExpectSameAsCpu(MakeNode("", "MatMul", {},
                               {{"transpose_a", MakeAttr(ta)}, {"transpose_b", MakeAttr(tb)}}),
                      {a, b}, 1e-4f);
    }
  }
  // A larger product, and an empty inner dimension (zeros).
  ExpectSameAsCpu(MakeNode("", "MatMul"),
                  {Random({256, 784}, -1, 1, 3), Random({784, 512}, -1, 1, 4)}, 1e-4f);
  ExpectSameAsCpu(MakeNode("", "MatMul"), {Tensor(DT_FLOAT, {3, 0}), Tensor(DT_FLOAT, {0, 4})});
}

TEST_F(GpuKernelTest, BinaryOpsBroadcastAsOnTheCpu) {
  const std::vector<std::pair<TensorShape, TensorShape>> shapes = {
      {{4, 5}, {4, 5}},
      {{4, 5}, {5}},
      {{3, 1, 5}, {1, 4, 1}},
      {{}, {2, 3}},
      {{2, 3, 4, 5, 6}, {1, 3, 1, 5, 1}}};
  for (const char* op :
       {"Add", "AddV2", "Sub", "Mul", "RealDiv", "Maximum", "Minimum", "SquaredDifference"}) {
    uint32_t seed = 10;
    for (const auto& [x, y] : shapes) {
      // Divisors kept away from zero.
      ExpectSameAsCpu(MakeNode("", op), {Random(x, -2, 2, seed), Random(y, 0.5f, 3, seed + 1)});
      seed += 2;
    }
  }
}

TEST_F(GpuKernelTest, UnaryOpsAndActivationGradients) {
  const Tensor any = Random({7, 33}, -3, 8, 20);
  for (const char* op : {"Relu", "Relu6", "Neg", "Square", "Exp", "Tanh", "Sigmoid"}) {
    ExpectSameAsCpu(MakeNode("", op), {any});
  }
  const Tensor positive = Random({7, 33}, 0.1f, 5, 21);
  for (const char* op : {"Log", "Sqrt", "Rsqrt"}) ExpectSameAsCpu(MakeNode("", op), {positive});
  const Tensor dy = Random({7, 33}, -1, 1, 22);
  ExpectSameAsCpu(MakeNode("", "ReluGrad"), {dy, any});
  ExpectSameAsCpu(MakeNode("", "Relu6Grad"), {dy, any});
}

TEST_F(GpuKernelTest, BiasAddAndItsGradientInBothLayouts) {
  const Tensor x = Random({2, 3, 4, 5}, -2, 2, 30);
  ExpectSameAsCpu(MakeNode("", "BiasAdd"), {x, Random({5}, -1, 1, 31)});
  ExpectSameAsCpu(MakeNode("", "BiasAdd", {}, {{"data_format", MakeAttr(std::string("NCHW"))}}),
                  {x, Random({3}, -1, 1, 32)});
  ExpectSameAsCpu(MakeNode("", "BiasAddGrad"), {x}, 1e-4f);
  ExpectSameAsCpu(MakeNode("", "BiasAddGrad", {}, {{"data_format", MakeAttr(std::string("NCHW"))}}),
                  {x}, 1e-4f);
  ExpectSameAsCpu(MakeNode("", "BiasAddGrad"), {Random({1000, 10}, -1, 1, 33)}, 1e-4f);
}

TEST_F(GpuKernelTest, OutOfMemoryNamesTheNodeAndTheBytes) {
  // [200000, 1] x [1, 200000] is 160 GB of output: more than any GPU here holds.
  absl::StatusOr<Tensor> out =
      RunOn("/device:GPU:0", MakeNode("", "MatMul"),
            {Tensor(DT_FLOAT, {200000, 1}), Tensor(DT_FLOAT, {1, 200000})});
  EXPECT_STATUS(out.status(), absl::StatusCode::kResourceExhausted, "[[node op (MatMul)",
                "160000000000 bytes asked of GPU_0_bfc");
}

}  // namespace
}  // namespace runnel
