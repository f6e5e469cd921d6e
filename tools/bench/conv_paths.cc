// The compute path for convolutions, measured: Runnel's Conv2D kernels as a session runs
// them (float32: oneDNN primitives in per-image slices over Runnel's pool for batches of
// at least one image per thread, im2col + GEMM otherwise; before the switch to oneDNN this
// column was im2col + GEMM throughout, tools/bench/README.md has both) against oneDNN's
// convolution primitives called directly (NHWC activations, weights in the primitive's
// preferred layout reordered once outside the timing, oneDNN's own OpenMP threads) on
// the deep-MNIST CNN's layers and a MobileNet pointwise layer, forward and both backward
// passes, float32, GFLOP/s counting every window position (best of 5 rounds).
//   ninja -C build conv_paths && build/tools/conv_paths
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "runtime/direct_session.h"
#include "runtime/threadpool.h"

namespace {

using runnel::AttrValue;
using runnel::DirectSession;
using runnel::GraphDef;
using runnel::MakeAttr;
using runnel::NodeDef;
using runnel::Tensor;
using runnel::TensorShape;

struct Layer {
  const char* name;
  int64_t n, h, w, c, k, m;  // NHWC input, k x k filter, m output channels, SAME, stride 1
};

template <typename Fn>
double Seconds(Fn&& fn) {
  fn();
  double best = 1e9;
  for (int round = 0; round < 5; ++round) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 5; ++i) fn();
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 5);
  }
  return best;
}

Tensor Random(const TensorShape& shape, std::mt19937* rng) {
  Tensor t(runnel::DT_FLOAT, shape);
  std::uniform_real_distribution<float> dist(-1, 1);
  for (int64_t i = 0; i < t.NumElements(); ++i) t.data<float>()[i] = dist(*rng);
  return t;
}

NodeDef Node(const std::string& name, const std::string& op, std::vector<std::string> inputs,
             std::vector<std::pair<std::string, AttrValue>> attrs) {
  NodeDef n;
  n.set_name(name);
  n.set_op(op);
  for (auto& i : inputs) n.add_input(i);
  for (auto& [k, v] : attrs) (*n.mutable_attr())[k] = v;
  return n;
}

// Runnel: Conv2D and its backprops as a session runs them, seconds per call for each.
std::vector<double> RunnelSeconds(const Layer& l, std::mt19937* rng) {
  GraphDef g;
  auto placeholder = [&](const char* name) {
    *g.add_node() = Node(name, "Placeholder", {}, {{"dtype", MakeAttr(runnel::DT_FLOAT)}});
  };
  placeholder("x");
  placeholder("f");
  placeholder("dy");
  std::vector<std::pair<std::string, AttrValue>> conv = {
      {"strides", MakeAttr(std::vector<int64_t>{1, 1, 1, 1})}, {"padding", MakeAttr("SAME")}};
  auto shape_const = [&](const char* name, std::vector<int32_t> v) {
    Tensor t(runnel::DT_INT32, TensorShape{4});
    std::copy(v.begin(), v.end(), t.data<int32_t>());
    AttrValue value;
    t.AsProto(value.mutable_tensor());
    *g.add_node() = Node(name, "Const", {}, {{"value", value}, {"dtype", MakeAttr(runnel::DT_INT32)}});
  };
  shape_const("xs", {int32_t(l.n), int32_t(l.h), int32_t(l.w), int32_t(l.c)});
  shape_const("fs", {int32_t(l.k), int32_t(l.k), int32_t(l.c), int32_t(l.m)});
  *g.add_node() = Node("fwd", "Conv2D", {"x", "f"}, conv);
  *g.add_node() = Node("bwd_data", "Conv2DBackpropInput", {"xs", "f", "dy"}, conv);
  *g.add_node() = Node("bwd_weights", "Conv2DBackpropFilter", {"x", "fs", "dy"}, conv);
  auto session = DirectSession::Create(g);
  if (!session.ok()) {
    std::fprintf(stderr, "%s\n", session.status().ToString().c_str());
    std::exit(1);
  }
  std::vector<std::pair<std::string, Tensor>> feeds = {
      {"x", Random({l.n, l.h, l.w, l.c}, rng)},
      {"f", Random({l.k, l.k, l.c, l.m}, rng)},
      {"dy", Random({l.n, l.h, l.w, l.m}, rng)}};
  std::vector<double> seconds;
  for (const char* node : {"fwd", "bwd_data", "bwd_weights"}) {
    std::vector<Tensor> out;
    seconds.push_back(Seconds([&] { (void)(*session)->Run(feeds, {node}, {}, &out); }));
  }
  return seconds;
}

// oneDNN: the same three passes as convolution primitives.
std::vector<double> OneDnnSeconds(const Layer& l, int threads) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  omp_set_num_threads(threads);
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  const memory::dims src_dims = {l.n, l.c, l.h, l.w}, wei_dims = {l.m, l.c, l.k, l.k};
  const memory::dims dst_dims = {l.n, l.m, l.h, l.w}, strides = {1, 1};
  const memory::dims pad_l = {(l.k - 1) / 2, (l.k - 1) / 2}, pad_r = {l.k / 2, l.k / 2};
  auto src_md = memory::desc(src_dims, dt::f32, tag::nhwc);
  auto dst_md = memory::desc(dst_dims, dt::f32, tag::nhwc);
  auto wei_any = memory::desc(wei_dims, dt::f32, tag::any);
  auto fwd_pd = convolution_forward::primitive_desc(
      convolution_forward::desc(prop_kind::forward_training, algorithm::convolution_direct,
                                src_md, wei_any, dst_md, strides, pad_l, pad_r),
      eng);
  auto bwd_data_pd = convolution_backward_data::primitive_desc(
      convolution_backward_data::desc(algorithm::convolution_direct, src_md, wei_any, dst_md,
                                      strides, pad_l, pad_r),
      eng, fwd_pd);
  auto bwd_weights_pd = convolution_backward_weights::primitive_desc(
      convolution_backward_weights::desc(algorithm::convolution_direct, src_md, wei_any, dst_md,
                                         strides, pad_l, pad_r),
      eng, fwd_pd);
  memory src(src_md, eng), dst(dst_md, eng), diff_src(src_md, eng), diff_dst(dst_md, eng);
  memory wei(fwd_pd.weights_desc(), eng), bwd_wei(bwd_data_pd.weights_desc(), eng);
  memory diff_wei(bwd_weights_pd.diff_weights_desc(), eng);
  for (memory* m : {&src, &dst, &diff_src, &diff_dst, &wei, &bwd_wei, &diff_wei}) {
    float* p = static_cast<float*>(m->get_data_handle());
    std::fill(p, p + m->get_desc().get_size() / sizeof(float), 0.5f);
  }
  convolution_forward fwd(fwd_pd);
  convolution_backward_data bwd_data(bwd_data_pd);
  convolution_backward_weights bwd_weights(bwd_weights_pd);
  std::vector<double> seconds;
  seconds.push_back(Seconds([&] {
    fwd.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, wei}, {DNNL_ARG_DST, dst}});
    s.wait();
  }));
  seconds.push_back(Seconds([&] {
    bwd_data.execute(s, {{DNNL_ARG_DIFF_DST, diff_dst}, {DNNL_ARG_WEIGHTS, bwd_wei},
                         {DNNL_ARG_DIFF_SRC, diff_src}});
    s.wait();
  }));
  seconds.push_back(Seconds([&] {
    bwd_weights.execute(s, {{DNNL_ARG_SRC, src}, {DNNL_ARG_DIFF_DST, diff_dst},
                            {DNNL_ARG_DIFF_WEIGHTS, diff_wei}});
    s.wait();
  }));
  return seconds;
}

}  // namespace

int main() {
  const Layer layers[] = {
      {"deep-MNIST conv1, batch 64", 64, 28, 28, 1, 5, 32},
      {"deep-MNIST conv2, batch 64", 64, 14, 14, 32, 5, 64},
      {"deep-MNIST conv2, batch 256", 256, 14, 14, 32, 5, 64},
      {"MobileNet 0.25 pointwise 16x16x64->64", 1, 16, 16, 64, 1, 64},
  };
  const int threads = runnel::NumSchedulableCpus();
  std::mt19937 rng(0);
  std::printf("GFLOP/s, %d threads: Runnel's Conv2D / oneDNN's primitive called directly\n",
              threads);
  std::printf("%-40s %16s %16s %16s\n", "layer", "forward", "backward data", "backward weights");
  for (const Layer& l : layers) {
    const double flops = 2.0 * l.n * l.h * l.w * l.k * l.k * l.c * l.m;
    const auto runnel = RunnelSeconds(l, &rng);
    const auto onednn = OneDnnSeconds(l, threads);
    std::printf("%-40s", l.name);
    for (int i = 0; i < 3; ++i) {
      std::printf("    %6.1f / %5.1f", flops / runnel[i] / 1e9, flops / onednn[i] / 1e9);
    }
    std::printf("\n");
  }
}
