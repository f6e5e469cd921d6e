// A numeric gradient checker: builds an op's graph on float64 inputs, adds its gradient
// with AddGradients, and compares it with central finite differences of
// f(x) = sum_k sum(y_k(x) * w_k) for random weights w.
#pragma once

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "core/gradients.h"
#include "gtest/gtest.h"
#include "runtime/direct_session.h"
#include "tests/test_util.h"

namespace runnel::testing {

struct GradientCase {
  // Shapes of the float64 inputs, fed as placeholders x0, x1, ...
  std::vector<TensorShape> inputs;
  // Nodes computing the outputs to differentiate from x0, x1, ... (constants included).
  std::vector<NodeDef> nodes;
  // The differentiated tensors ("y", "split:1", ...).
  std::vector<std::string> ys;
  double low = -2, high = 2;  // where inputs are drawn from
  double eps = 1e-6, tolerance = 1e-6;
};

inline void CheckGradient(const GradientCase& c, uint32_t seed = 7) {
  GraphDef def;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    *def.add_node() =
        PlaceholderNode("x" + std::to_string(i), DT_DOUBLE, PartialShape(c.inputs[i]));
  }
  for (const NodeDef& n : c.nodes) *def.add_node() = n;
  auto built = Graph::FromGraphDef(def);
  ASSERT_TRUE(built.ok()) << built.status();
  std::shared_ptr<Graph> graph(std::move(*built));
  std::vector<Output> ys, xs, ws;
  for (size_t k = 0; k < c.ys.size(); ++k) {
    auto id = ParseTensorName(c.ys[k]);
    ASSERT_TRUE(id.ok());
    Output y{graph->FindNode(id->node), id->port};
    ASSERT_TRUE(y.valid()) << c.ys[k];
    ys.push_back(y);
    auto w = graph->AddNode(PlaceholderNode("w" + std::to_string(k), y.dtype()));
    ASSERT_TRUE(w.ok());
    ws.push_back({*w, 0});
  }
  for (size_t i = 0; i < c.inputs.size(); ++i)
    xs.push_back({graph->FindNode("x" + std::to_string(i)), 0});
  auto grads = AddGradients(graph.get(), ys, xs, ws);
  ASSERT_TRUE(grads.ok()) << grads.status();  // NOLINT
  auto session = DirectSession::Create(graph);
  ASSERT_TRUE(session.ok()) << session.status();

  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> dist(c.low, c.high);
  std::vector<std::pair<std::string, Tensor>> feeds;
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    Tensor x(DT_DOUBLE, c.inputs[i]);
    for (double& v : x.flat<double>()) v = dist(rng);
    feeds.emplace_back("x" + std::to_string(i), x);
  }
  std::vector<Tensor> y_values;
  auto forward = (*session)->Run(feeds, c.ys, {}, &y_values);
  ASSERT_TRUE(forward.ok()) << forward;
  for (size_t k = 0; k < ys.size(); ++k) {
    Tensor w(y_values[k].dtype(), y_values[k].shape());
    for (double& v : w.flat<double>()) v = dist(rng);
    feeds.emplace_back("w" + std::to_string(k), w);
  }
  const size_t num_x = c.inputs.size();
  auto f = [&](std::vector<std::pair<std::string, Tensor>>& in) {
    std::vector<Tensor> out;
    auto s = (*session)->Run(in, c.ys, {}, &out);
    EXPECT_TRUE(s.ok()) << s;
    double total = 0;
    for (size_t k = 0; k < out.size(); ++k) {
      auto yv = out[k].flat<double>();
      auto wv = in[num_x + k].second.flat<double>();
      for (size_t j = 0; j < yv.size(); ++j) total += yv[j] * wv[j];
    }
    return total;
  };
  std::vector<std::string> grad_names;
  for (const Output& g : *grads) {
    ASSERT_TRUE(g.valid()) << "no gradient reached an input";
    grad_names.push_back(g.name());
  }
  std::vector<Tensor> analytic;
  auto s = (*session)->Run(feeds, grad_names, {}, &analytic);
  ASSERT_TRUE(s.ok()) << s;
  for (size_t i = 0; i < num_x; ++i) {
    ASSERT_EQ(analytic[i].shape(), c.inputs[i]) << "gradient of x" << i << " has the wrong shape";
    Tensor x = feeds[i].second.Clone();
    feeds[i].second = x;
    for (int64_t j = 0; j < x.NumElements(); ++j) {
      const double saved = x.data<double>()[j];
      x.data<double>()[j] = saved + c.eps;
      const double up = f(feeds);
      x.data<double>()[j] = saved - c.eps;
      const double down = f(feeds);
      x.data<double>()[j] = saved;
      const double numeric = (up - down) / (2 * c.eps);
      EXPECT_NEAR(analytic[i].data<double>()[j], numeric,
                  c.tolerance * std::max(1.0, std::abs(numeric)))
          << "d/dx" << i << "[" << j << "]";
    }
  }
}

}  // namespace runnel::testing
