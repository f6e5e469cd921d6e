// The GPU plug-in loads and registers its kernels on any machine of a CUDA build; on a
// machine with a GPU, every GPU kernel gives what the CPU kernel gives on the same inputs
// (the tests that need a GPU skip with a message where there is none).
#include <dlfcn.h>

#include <cmath>
#include <random>
#include <tuple>

#include "core/gradients.h"
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

  // `op`'s outputs over placeholders in0, in1, … on `device`, placement not softened.
  static absl::StatusOr<std::vector<Tensor>> RunOn(const std::string& device, NodeDef op,
                                                   const std::vector<Tensor>& inputs,
                                                   int num_outputs = 1) {
    GraphDef graph;
    std::vector<std::pair<std::string, Tensor>> feeds;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string name = "in" + std::to_string(i);
      *graph.add_node() = testing::PlaceholderNode(name, inputs[i].dtype());
      op.add_input(name);
      feeds.emplace_back(name, inputs[i]);
    }
    op.set_name("op");
    op.set_device(device);
    if (!op.attr().count("T") && !op.attr().count("SrcT")) {
      (*op.mutable_attr())["T"] = MakeAttr(DT_FLOAT);
    }
    *graph.add_node() = op;
    SessionOptions options;
    RETURN_IF_ERROR(options.Set("allow_soft_placement", "false"));
    std::vector<std::string> fetches;
    for (int i = 0; i < num_outputs; ++i) fetches.push_back("op:" + std::to_string(i));
    return testing::RunGraph(graph, feeds, fetches, options);
  }

  static void ExpectNear(const Tensor& got, const Tensor& want, float tolerance,
                         const std::string& what) {
    ASSERT_EQ(got.shape(), want.shape()) << what;
    ASSERT_EQ(got.dtype(), want.dtype()) << what;
    ASSERT_TRUE(got.on_host()) << what;  // a fetch comes back to host memory
    if (want.dtype() != DT_FLOAT) {
      EXPECT_EQ(got.DebugString(1 << 20), want.DebugString(1 << 20)) << what;
      return;
    }
    for (int64_t i = 0; i < want.NumElements(); ++i) {
      const float w = want.data<float>()[i], g = got.data<float>()[i];
      ASSERT_NEAR(g, w, tolerance * (1 + std::fabs(w))) << what << " element " << i;
    }
  }

  // The GPU's outputs are the CPU's within `tolerance` (relative to the magnitude).
  static void ExpectSameAsCpu(const NodeDef& op, const std::vector<Tensor>& inputs,
                              float tolerance = 1e-5f, int num_outputs = 1) {
    auto cpu = RunOn("/device:CPU:0", op, inputs, num_outputs);
    auto gpu = RunOn("/device:GPU:0", op, inputs, num_outputs);
    ASSERT_TRUE(cpu.ok()) << cpu.status();
    ASSERT_TRUE(gpu.ok()) << gpu.status();
    for (int i = 0; i < num_outputs; ++i) {
      ExpectNear((*gpu)[i], (*cpu)[i], tolerance, op.op() + " output " + std::to_string(i));
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
  auto out = RunOn("/device:GPU:0", MakeNode("", "MatMul"),
                   {Tensor(DT_FLOAT, {200000, 1}), Tensor(DT_FLOAT, {1, 200000})});
  EXPECT_STATUS(out.status(), absl::StatusCode::kResourceExhausted, "[[node op (MatMul)",
                "160000000000 bytes asked of GPU_0_bfc");
}

Tensor Ints(std::vector<int32_t> v) {
  Tensor t(DT_INT32, TensorShape{static_cast<int64_t>(v.size())});
  std::copy(v.begin(), v.end(), t.data<int32_t>());
  return t;
}

TEST_F(GpuKernelTest, ReductionsOverAnyAxes) {
  const Tensor x = Random({3, 4, 5}, 0.5f, 1.5f, 40);
  for (const char* op : {"Sum", "Mean", "Prod", "Max", "Min"}) {
    for (const auto& axes :
         std::vector<std::vector<int32_t>>{{0}, {1}, {2}, {0, 2}, {-1, 0, 1}, {}}) {
      for (bool keep : {false, true}) {
        ExpectSameAsCpu(MakeNode("", op, {}, {{"keep_dims", MakeAttr(keep)}}), {x, Ints(axes)},
                        1e-5f);
      }
    }
  }
  ExpectSameAsCpu(MakeNode("", "Sum"), {Random({1000, 300}, -1, 1, 41), Ints({0})}, 1e-4f);
  ExpectSameAsCpu(MakeNode("", "Mean"), {Random({1000, 300}, -1, 1, 42), Ints({1})}, 1e-4f);
}

TEST_F(GpuKernelTest, SoftmaxAndTheCrossEntropyLosses) {
  for (const TensorShape& shape : {TensorShape{7, 10}, TensorShape{2, 3, 1000}}) {
    ExpectSameAsCpu(MakeNode("", "Softmax"), {Random(shape, -5, 5, 50)});
    ExpectSameAsCpu(MakeNode("", "LogSoftmax"), {Random(shape, -5, 5, 51)});
  }
  const Tensor logits = Random({16, 10}, -4, 4, 52);
  Tensor labels = Random({16, 10}, 0, 1, 53);
  for (int r = 0; r < 16; ++r) {  // rows of probabilities
    float sum = 0;
    for (int c = 0; c < 10; ++c) sum += labels.data<float>()[r * 10 + c];
    for (int c = 0; c < 10; ++c) labels.data<float>()[r * 10 + c] /= sum;
  }
  ExpectSameAsCpu(MakeNode("", "SoftmaxCrossEntropyWithLogits"), {logits, labels}, 1e-5f, 2);
  Tensor classes32(DT_INT32, {16}), classes64(DT_INT64, {16});
  for (int r = 0; r < 16; ++r) classes32.data<int32_t>()[r] = classes64.data<int64_t>()[r] = r % 10;
  for (const Tensor& classes : {classes32, classes64}) {
    ExpectSameAsCpu(MakeNode("", "SparseSoftmaxCrossEntropyWithLogits", {},
                             {{"Tlabels", MakeAttr(classes.dtype())}}),
                    {logits, classes}, 1e-5f, 2);
  }
}

TEST_F(GpuKernelTest, CastTransposeTileAndFills) {
  const Tensor x = Random({2, 3, 4}, -3, 3, 60);
  for (DataType to : {DT_INT64, DT_BOOL, DT_DOUBLE}) {
    NodeDef cast = MakeNode("", "Cast", {}, {{"SrcT", MakeAttr(DT_FLOAT)}, {"DstT", MakeAttr(to)}});
    ExpectSameAsCpu(cast, {x});
  }
  ExpectSameAsCpu(MakeNode("", "Transpose"), {x, Ints({2, 0, 1})});
  ExpectSameAsCpu(MakeNode("", "Transpose"), {x, Ints({0, 1, 2})});
  ExpectSameAsCpu(MakeNode("", "Tile"), {x, Ints({2, 1, 3})});
  ExpectSameAsCpu(MakeNode("", "Fill"), {Ints({3, 5}), Tensor::Scalar<float>(2.5f)});
  ExpectSameAsCpu(MakeNode("", "ZerosLike"), {x});
  ExpectSameAsCpu(MakeNode("", "OnesLike"), {x});
}

// A two-layer MLP classifier trained by gradient descent from the same start, placed
// automatically (the GPU takes what it has kernels for) and on the CPU alone.
GraphDef MlpTrainingGraph(std::vector<std::string>* inits, std::vector<std::string>* train) {
  std::vector<NodeDef> nodes = {testing::PlaceholderNode("x", DT_FLOAT),
                                testing::PlaceholderNode("y", DT_INT32)};
  const std::vector<std::pair<std::string, TensorShape>> vars = {
      {"w1", {20, 32}}, {"b1", {32}}, {"w2", {32, 10}}, {"b2", {10}}};
  uint32_t seed = 70;
  for (const auto& [name, shape] : vars) {
    nodes.push_back(
        MakeNode(name, "VariableV2", {},
                 {{"dtype", MakeAttr(DT_FLOAT)}, {"shape", MakeAttr(PartialShape(shape))}}));
    nodes.push_back(testing::ConstNode(name + "/value", Random(shape, -0.3f, 0.3f, seed++)));
    nodes.push_back(
        MakeNode(name + "/init", "Assign", {name, name + "/value"}, {{"T", MakeAttr(DT_FLOAT)}}));
    nodes.push_back(MakeNode(name + "/read", "Identity", {name}, {{"T", MakeAttr(DT_FLOAT)}}));
    inits->push_back(name + "/init");
  }
  const testing::Attrs f = {{"T", MakeAttr(DT_FLOAT)}};
  for (NodeDef n :
       {MakeNode("h0", "MatMul", {"x", "w1/read"}, f),
        MakeNode("h1", "BiasAdd", {"h0", "b1/read"}, f), MakeNode("h", "Relu", {"h1"}, f),
        MakeNode("l0", "MatMul", {"h", "w2/read"}, f),
        MakeNode("logits", "BiasAdd", {"l0", "b2/read"}, f),
        MakeNode("xent", "SparseSoftmaxCrossEntropyWithLogits", {"logits", "y"},
                 {{"T", MakeAttr(DT_FLOAT)}, {"Tlabels", MakeAttr(DT_INT32)}}),
        testing::ConstNode("axes", Ints({0})), MakeNode("loss", "Mean", {"xent", "axes"}, f),
        testing::ConstNode("lr", Tensor::Scalar<float>(0.5f))}) {
    nodes.push_back(n);
  }
  GraphDef def;
  for (const NodeDef& n : nodes) *def.add_node() = n;
  auto graph = Graph::FromGraphDef(def);
  EXPECT_TRUE(graph.ok()) << graph.status();
  std::vector<Output> xs;
  for (const auto& [name, shape] : vars) xs.push_back({(*graph)->FindNode(name + "/read"), 0});
  auto grads = AddGradients(graph->get(), {{(*graph)->FindNode("loss"), 0}}, xs, {});
  EXPECT_TRUE(grads.ok()) << grads.status();
  GraphDef out;
  (*graph)->ToGraphDef(&out);
  for (size_t i = 0; i < vars.size(); ++i) {
    const std::string& name = vars[i].first;
    *out.add_node() =
        MakeNode(name + "/apply", "ApplyGradientDescent", {name, "lr", (*grads)[i].name()}, f);
    train->push_back(name + "/apply");
  }
  return out;
}

TEST_F(GpuKernelTest, AnMlpTrainsOnTheGpuAsOnTheCpu) {
  std::vector<std::string> inits, train;
  const GraphDef graph = MlpTrainingGraph(&inits, &train);
  const Tensor x = Random({64, 20}, -1, 1, 80);
  Tensor y(DT_INT32, {64});
  for (int i = 0; i < 64; ++i) y.data<int32_t>()[i] = (i * 7) % 10;
  std::vector<std::vector<float>> losses(2);
  std::vector<Tensor> weights[2];
  for (int gpu = 0; gpu < 2; ++gpu) {
    SessionOptions options;
    ASSERT_TRUE(options.Set("device_count.GPU", gpu ? "1" : "0").ok());
    auto session = DirectSession::Create(graph, options);
    ASSERT_TRUE(session.ok()) << session.status();
    std::vector<Tensor> out;
    ASSERT_TRUE((*session)->Run({}, {}, inits, &out).ok());
    for (int step = 0; step < 60; ++step) {
      RunOptions run_options;
      if (gpu && step == 0) run_options.set_trace_level(RunOptions::FULL_TRACE);
      RunMetadata metadata;
      absl::Status s =
          (*session)->Run(run_options, {{"x", x}, {"y", y}}, {"loss"}, train, &out, &metadata);
      ASSERT_TRUE(s.ok()) << s;
      losses[gpu].push_back(out[0].scalar<float>());
      if (gpu && step == 0) {  // the matrix products ran on the GPU
        bool on_gpu = false;
        for (const auto& dev : metadata.step_stats().dev_stats()) {
          for (const auto& node : dev.node_stats()) {
            on_gpu |= node.node_name() == "h0" && dev.device().find("GPU:0") != std::string::npos;
          }
        }
        EXPECT_TRUE(on_gpu) << "h0 (MatMul) did not run on /device:GPU:0";
      }
    }
    ASSERT_TRUE((*session)->Run({}, {"w1", "b1", "w2", "b2"}, {}, &weights[gpu]).ok());
  }
  EXPECT_LT(losses[1].back(), 0.5f * losses[1].front());  // it learns
  for (size_t i = 0; i < losses[0].size(); ++i) {
    EXPECT_NEAR(losses[1][i], losses[0][i], 1e-3f * (1 + losses[0][i])) << "step " << i;
  }
  for (int w = 0; w < 4; ++w)
    ExpectNear(weights[1][w], weights[0][w], 1e-3f, "weight " + std::to_string(w));
}

testing::Attrs WindowAttrs(const std::string& padding, std::vector<int64_t> strides, bool nchw,
                           std::vector<int64_t> dilations = {1, 1, 1, 1}) {
  testing::Attrs a = {{"T", MakeAttr(DT_FLOAT)},
                      {"padding", MakeAttr(padding)},
                      {"strides", MakeAttr(strides)},
                      {"data_format", MakeAttr(std::string(nchw ? "NCHW" : "NHWC"))}};
  if (dilations != std::vector<int64_t>{1, 1, 1, 1}) a["dilations"] = MakeAttr(dilations);
  return a;
}

// NHWC and NCHW; SAME with even and odd padding, VALID, strides and dilations.
struct ConvCase {
  std::string padding;
  int64_t stride, dilation, filter;
};
const ConvCase kConvCases[] = {
    {"SAME", 1, 1, 3}, {"SAME", 2, 1, 3}, {"SAME", 1, 1, 4}, {"VALID", 2, 1, 3}, {"SAME", 1, 2, 3}};

TEST_F(GpuKernelTest, ConvolutionsAndTheirGradients) {
  for (bool nchw : {false, true}) {
    for (const ConvCase& k : kConvCases) {
      auto hw = [&](int64_t v) {
        return nchw ? std::vector<int64_t>{1, 1, v, v} : std::vector<int64_t>{1, v, v, 1};
      };
      const testing::Attrs attrs = WindowAttrs(k.padding, hw(k.stride), nchw, hw(k.dilation));
      const TensorShape in_shape = nchw ? TensorShape{2, 3, 11, 10} : TensorShape{2, 11, 10, 3};
      const Tensor x = Random(in_shape, -1, 1, 90);
      for (bool depthwise : {false, true}) {
        const Tensor filter = Random({k.filter, k.filter, 3, depthwise ? 2 : 5}, -1, 1, 91);
        const std::string op = depthwise ? "DepthwiseConv2dNative" : "Conv2D";
        SCOPED_TRACE(op + " " + k.padding + " stride " + std::to_string(k.stride) + " dilation " +
                     std::to_string(k.dilation) + (nchw ? " NCHW" : " NHWC"));
        if (depthwise && k.dilation > 1) continue;
        auto cpu = RunOn("/device:CPU:0", MakeNode("", op, {}, attrs), {x, filter});
        ASSERT_TRUE(cpu.ok()) << cpu.status();
        ExpectSameAsCpu(MakeNode("", op, {}, attrs), {x, filter}, 1e-4f);
        const Tensor dy = Random((*cpu)[0].shape(), -1, 1, 92);
        Tensor sizes(DT_INT32, {4});
        for (int d = 0; d < 4; ++d)
          sizes.data<int32_t>()[d] = static_cast<int32_t>(in_shape.dim_size(d));
        ExpectSameAsCpu(MakeNode("", op + "BackpropInput", {}, attrs), {sizes, filter, dy}, 1e-4f);
        for (int d = 0; d < 4; ++d) {
          sizes.data<int32_t>()[d] = static_cast<int32_t>(filter.dim_size(d));
        }
        ExpectSameAsCpu(MakeNode("", op + "BackpropFilter", {}, attrs), {x, sizes, dy}, 1e-4f);
      }
    }
  }
}

TEST_F(GpuKernelTest, PoolingAndItsGradients) {
  for (bool nchw : {false, true}) {
    for (const auto& [padding, window, stride] :
         std::vector<std::tuple<std::string, int64_t, int64_t>>{
             {"VALID", 2, 2}, {"SAME", 3, 2}, {"SAME", 3, 1}, {"VALID", 3, 2}}) {
      auto hw = [&](int64_t v) {
        return nchw ? std::vector<int64_t>{1, 1, v, v} : std::vector<int64_t>{1, v, v, 1};
      };
      testing::Attrs attrs = WindowAttrs(padding, hw(stride), nchw);
      attrs["ksize"] = MakeAttr(hw(window));
      const TensorShape shape = nchw ? TensorShape{2, 4, 9, 8} : TensorShape{2, 9, 8, 4};
      const Tensor x = Random(shape, -1, 1, 100);
      for (const char* op : {"MaxPool", "AvgPool"}) {
        SCOPED_TRACE(std::string(op) + " " + padding + (nchw ? " NCHW" : " NHWC"));
        auto y = RunOn("/device:CPU:0", MakeNode("", op, {}, attrs), {x});
        ASSERT_TRUE(y.ok()) << y.status();
        ExpectSameAsCpu(MakeNode("", op, {}, attrs), {x});
        const Tensor dy = Random((*y)[0].shape(), -1, 1, 101);
        if (std::string(op) == "MaxPool") {
          ExpectSameAsCpu(MakeNode("", "MaxPoolGrad", {}, attrs), {x, (*y)[0], dy}, 1e-5f);
        } else {
          Tensor sizes(DT_INT32, {4});
          for (int d = 0; d < 4; ++d)
            sizes.data<int32_t>()[d] = static_cast<int32_t>(shape.dim_size(d));
          ExpectSameAsCpu(MakeNode("", "AvgPoolGrad", {}, attrs), {sizes, dy}, 1e-5f);
        }
      }
    }
  }
}

TEST_F(GpuKernelTest, PadWithZerosOrAValue) {
  const Tensor x = Random({2, 3, 4}, -1, 1, 110);
  Tensor paddings(DT_INT32, {3, 2});
  const int32_t p[] = {1, 0, 0, 2, 3, 1};
  std::copy(p, p + 6, paddings.data<int32_t>());
  ExpectSameAsCpu(MakeNode("", "Pad"), {x, paddings});
  ExpectSameAsCpu(MakeNode("", "PadV2"), {x, paddings, Tensor::Scalar<float>(-7.5f)});
}

TEST_F(GpuKernelTest, FusedBatchNormAndItsGradient) {
  for (bool nchw : {false, true}) {
    for (bool training : {true, false}) {
      SCOPED_TRACE(std::string(nchw ? "NCHW" : "NHWC") + (training ? " training" : " inference"));
      const TensorShape shape = nchw ? TensorShape{4, 6, 5, 3} : TensorShape{4, 5, 3, 6};
      const Tensor x = Random(shape, -2, 3, 120);
      const Tensor scale = Random({6}, 0.5f, 2, 121), offset = Random({6}, -1, 1, 122);
      const Tensor mean = Random({6}, -0.5f, 0.5f, 123), variance = Random({6}, 0.5f, 2, 124);
      testing::Attrs attrs = {{"T", MakeAttr(DT_FLOAT)},
                              {"U", MakeAttr(DT_FLOAT)},
                              {"epsilon", MakeAttr(0.001f)},
                              {"is_training", MakeAttr(training)},
                              {"data_format", MakeAttr(std::string(nchw ? "NCHW" : "NHWC"))}};
      testing::Attrs forward = attrs;
      forward["exponential_avg_factor"] = MakeAttr(training ? 0.3f : 1.0f);
      ExpectSameAsCpu(MakeNode("", "FusedBatchNormV3", {}, forward),
                      {x, scale, offset, mean, variance}, 1e-4f, 6);
      auto cpu = RunOn("/device:CPU:0", MakeNode("", "FusedBatchNormV3", {}, forward),
                       {x, scale, offset, mean, variance}, 6);
      ASSERT_TRUE(cpu.ok()) << cpu.status();
      const Tensor dy = Random(shape, -1, 1, 125);
      ExpectSameAsCpu(MakeNode("", "FusedBatchNormGradV3", {}, attrs),
                      {dy, x, scale, (*cpu)[3], (*cpu)[4], (*cpu)[5]}, 1e-4f, 5);
    }
  }
}

TEST_F(GpuKernelTest, BatchMatMulWithAndWithoutBroadcasting) {
  const std::vector<std::pair<TensorShape, TensorShape>> shapes = {{{3, 4, 5}, {3, 5, 6}},
                                                                   {{3, 4, 5}, {5, 6}},
                                                                   {{1, 4, 5}, {3, 5, 6}},
                                                                   {{2, 1, 4, 5}, {1, 3, 5, 6}}};
  for (const auto& [xs, ys] : shapes) {
    for (bool adj_x : {false, true}) {
      for (bool adj_y : {false, true}) {
        // The stored matrices are the adjoints' transposes.
        auto stored = [](const TensorShape& s, bool adj) {
          if (!adj) return s;
          TensorShape t = s;
          t.set_dim(s.dims() - 1, s.dim_size(s.dims() - 2));
          t.set_dim(s.dims() - 2, s.dim_size(s.dims() - 1));
          return t;
        };
        const TensorShape x = stored(xs, adj_x), y = stored(ys, adj_y);
        ExpectSameAsCpu(MakeNode("", "BatchMatMulV2", {},
                                 {{"adj_x", MakeAttr(adj_x)}, {"adj_y", MakeAttr(adj_y)}}),
                        {Random(x, -1, 1, 130), Random(y, -1, 1, 131)}, 1e-4f);
      }
    }
  }
}

TEST_F(GpuKernelTest, ConcatSliceAndGather) {
  const Tensor a = Random({2, 3, 4}, -1, 1, 140), b = Random({2, 5, 4}, -1, 1, 141);
  NodeDef concat = MakeNode("", "ConcatV2", {}, {{"N", MakeAttr(int64_t{2})}});
  ExpectSameAsCpu(concat, {a, b, Tensor::Scalar<int32_t>(1)});
  ExpectSameAsCpu(concat, {a, a, Tensor::Scalar<int32_t>(-1)});
  ExpectSameAsCpu(MakeNode("", "Slice", {}, {{"Index", MakeAttr(DT_INT32)}}),
                  {b, Ints({1, 1, 0}), Ints({1, -1, 3})});
  Tensor indices(DT_INT64, {4});
  const int64_t picks[] = {4, 0, 2, 2};
  std::copy(picks, picks + 4, indices.data<int64_t>());
  for (int32_t axis : {0, 1}) {
    ExpectSameAsCpu(MakeNode("", "GatherV2", {},
                             {{"Tparams", MakeAttr(DT_FLOAT)},
                              {"Tindices", MakeAttr(DT_INT64)},
                              {"Taxis", MakeAttr(DT_INT32)}}),
                    {Random({5, 6}, -1, 1, 142), indices, Tensor::Scalar<int32_t>(axis)});
  }
}

TEST_F(GpuKernelTest, RandomNumbersAreTheCpusOnTheGpu) {
  for (const char* op : {"RandomUniform", "RandomStandardNormal", "TruncatedNormal"}) {
    NodeDef node = MakeNode("", op, {},
                            {{"dtype", MakeAttr(DT_FLOAT)},
                             {"T", MakeAttr(DT_INT32)},
                             {"seed", MakeAttr(int64_t{7})},
                             {"seed2", MakeAttr(int64_t{11})}});
    ExpectSameAsCpu(node, {Ints({30, 40})}, 0.0f);
  }
}

TEST_F(GpuKernelTest, FusedMatMulWithBiasAndActivation) {
  for (const std::vector<std::string>& ops : std::vector<std::vector<std::string>>{
           {"BiasAdd"}, {"BiasAdd", "Relu"}, {"BiasAdd", "Relu6"}}) {
    for (bool ta : {false, true}) {
      NodeDef fused = MakeNode("", "_FusedMatMul", {},
                               {{"transpose_a", MakeAttr(ta)},
                                {"transpose_b", MakeAttr(false)},
                                {"fused_ops", MakeAttr(ops)},
                                {"num_args", MakeAttr(int64_t{1})},
                                {"epsilon", MakeAttr(0.0f)}});
      const Tensor a = Random(ta ? TensorShape{40, 33} : TensorShape{33, 40}, -2, 2, 150);
      ExpectSameAsCpu(fused, {a, Random({40, 17}, -2, 2, 151), Random({17}, -3, 3, 152)}, 1e-4f);
    }
  }
}

TEST_F(GpuKernelTest, MoreActivationsAddNAndStridedSlices) {
  const Tensor x = Random({6, 7}, -3, 3, 160), dy = Random({6, 7}, -1, 1, 161);
  for (const char* op : {"Elu", "Selu", "Softplus"}) ExpectSameAsCpu(MakeNode("", op), {x});
  ExpectSameAsCpu(MakeNode("", "LeakyRelu", {}, {{"alpha", MakeAttr(0.1f)}}), {x});
  for (const char* op : {"EluGrad", "SeluGrad", "SoftplusGrad"}) {
    ExpectSameAsCpu(MakeNode("", op), {dy, x});
  }
  ExpectSameAsCpu(MakeNode("", "LeakyReluGrad", {}, {{"alpha", MakeAttr(0.1f)}}), {dy, x});
  ExpectSameAsCpu(MakeNode("", "AddN", {}, {{"N", MakeAttr(int64_t{3})}}),
                  {x, dy, Random({6, 7}, -1, 1, 162)});
  const Tensor t = Random({4, 5, 6}, -1, 1, 163);
  struct Case {
    std::vector<int32_t> begin, end, strides;
    int64_t begin_mask, end_mask, shrink, new_axis, ellipsis;
  };
  for (const Case& c : std::vector<Case>{{{1, 0, 0}, {3, 5, 6}, {1, 1, 2}, 0, 0, 0, 0, 0},
                                         {{3, 4, 5}, {0, 0, 0}, {-1, -2, -1}, 0, 6, 0, 0, 0},
                                         {{2, 1, 0}, {3, 4, 6}, {1, 1, 1}, 0, 4, 1, 0, 0},
                                         {{0, 1}, {0, 3}, {1, 1}, 1, 1, 0, 0, 1},
                                         {{0, 2, 0}, {0, 5, 0}, {1, 1, 1}, 5, 5, 0, 1, 0}}) {
    testing::Attrs attrs = {{"T", MakeAttr(DT_FLOAT)},
                            {"Index", MakeAttr(DT_INT32)},
                            {"begin_mask", MakeAttr(c.begin_mask)},
                            {"end_mask", MakeAttr(c.end_mask)},
                            {"shrink_axis_mask", MakeAttr(c.shrink)},
                            {"new_axis_mask", MakeAttr(c.new_axis)},
                            {"ellipsis_mask", MakeAttr(c.ellipsis)}};
    NodeDef slice = MakeNode("", "StridedSlice", {}, attrs);
    const std::vector<Tensor> args = {t, Ints(c.begin), Ints(c.end), Ints(c.strides)};
    ExpectSameAsCpu(slice, args);
    auto cpu = RunOn("/device:CPU:0", slice, args);
    ASSERT_TRUE(cpu.ok()) << cpu.status();
    ExpectSameAsCpu(MakeNode("", "StridedSliceGrad", {}, attrs),
                    {Ints({4, 5, 6}), Ints(c.begin), Ints(c.end), Ints(c.strides),
                     Random((*cpu)[0].shape(), -1, 1, 164)});
  }
}

// `op` in `type` on the GPU, its float inputs cast there and its output cast back.
absl::StatusOr<Tensor> RunReducedOnGpu(NodeDef op, DataType type,
                                       const std::vector<Tensor>& inputs) {
  GraphDef graph;
  std::vector<std::pair<std::string, Tensor>> feeds;
  auto cast = [](const std::string& name, const std::string& in, DataType from, DataType to) {
    NodeDef n = MakeNode(name, "Cast", {in}, {{"SrcT", MakeAttr(from)}, {"DstT", MakeAttr(to)}});
    n.set_device("/device:GPU:0");
    return n;
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string name = "in" + std::to_string(i);
    *graph.add_node() = testing::PlaceholderNode(name, DT_FLOAT);
    *graph.add_node() = cast(name + "_cast", name, DT_FLOAT, type);
    op.add_input(name + "_cast");
    feeds.emplace_back(name, inputs[i]);
  }
  op.set_name("op");
  op.set_device("/device:GPU:0");
  (*op.mutable_attr())["T"] = MakeAttr(type);
  *graph.add_node() = op;
  *graph.add_node() = cast("out", "op", type, DT_FLOAT);
  SessionOptions options;
  RETURN_IF_ERROR(options.Set("allow_soft_placement", "false"));
  ASSIGN_OR_RETURN(std::vector<Tensor> out, testing::RunGraph(graph, feeds, {"out"}, options));
  return out.at(0);
}

TEST_F(GpuKernelTest, HalfAndBFloat16ProductsAndConvolutionsAccumulateInFloat) {
  const Tensor a = Random({48, 64}, -1, 1, 170), b = Random({64, 40}, -1, 1, 171);
  const Tensor x = Random({2, 9, 9, 8}, -1, 1, 172), f = Random({3, 3, 8, 16}, -1, 1, 173);
  const NodeDef conv = MakeNode("", "Conv2D", {}, WindowAttrs("SAME", {1, 1, 1, 1}, false));
  auto mm_cpu = RunOn("/device:CPU:0", MakeNode("", "MatMul"), {a, b});
  auto conv_cpu = RunOn("/device:CPU:0", conv, {x, f});
  ASSERT_TRUE(mm_cpu.ok() && conv_cpu.ok());
  for (DataType type : {DT_HALF, DT_BFLOAT16}) {
    // Inputs rounded to 11 (half) or 8 (bfloat16) significant bits, sums in float.
    const float tolerance = type == DT_HALF ? 1e-2f : 5e-2f;
    auto mm = RunReducedOnGpu(MakeNode("", "MatMul"), type, {a, b});
    ASSERT_TRUE(mm.ok()) << mm.status();
    ExpectNear(*mm, (*mm_cpu)[0], tolerance, "MatMul " + DataTypeString(type));
    auto c = RunReducedOnGpu(conv, type, {x, f});
    ASSERT_TRUE(c.ok()) << c.status();
    ExpectNear(*c, (*conv_cpu)[0], tolerance, "Conv2D " + DataTypeString(type));
  }
}
}  // namespace
}  // namespace runnel
