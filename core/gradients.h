// Automatic differentiation: AddGradients builds the gradient subgraph into the same Graph.
// Each op's gradient function (registered beside its definition with SetGradient) receives
// a GradientContext: the forward node, the gradients of its outputs, and builders for new
// nodes. Builders record the first error and return an invalid Output after it, so a
// gradient function reads as straight-line math; the error surfaces when it returns.
//
//   REGISTER_OP("Square")...SetGradient([](GradientContext* g) {
//     g->SetInputGrad(0, g->Mul(g->grad(0), g->Mul(g->Scalar(2.0), g->input(0))));
//     return absl::OkStatus();
//   });
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/graph.h"

namespace runnel {

// One output of a node; `node == nullptr` means "none" (no gradient, or an error).
struct Output {
  Node* node = nullptr;
  int index = 0;
  bool valid() const { return node != nullptr; }
  std::string name() const;
  DataType dtype() const { return node->output_type(index); }
  const PartialShape& shape() const { return node->output_shape(index); }
};

// Where a gradient's nodes go. Inside a while loop's gradient (the backward loop), a
// forward value an op needs reaches it through Map (a loop invariant through an Enter, a
// value of the forward loop through a stack), and a node without inputs waits for the
// pivot so that it runs in every backward iteration. Outside loops nothing changes.
class GradientFrame {
 public:
  virtual ~GradientFrame() = default;
  // `live`: a gradient tensor of the op being built, dead when it is (in the untaken
  // branch of a tf.cond's gradient); invalid when there is none.
  virtual absl::StatusOr<Output> Map(Output value, Output live) { return value; }
  virtual Node* pivot() const { return nullptr; }
  virtual void Built(Node* node) {}
};

class GradientContext {
 public:
  // `frame` (not owned; nullptr: outside loops) places the new nodes.
  GradientContext(Graph* graph, Node* node, std::vector<Output> output_grads, std::string scope,
                  GradientFrame* frame = nullptr);

  const Node& node() const { return *node_; }
  AttrSlice attrs() const { return node_->attrs(); }
  // The forward node's attributes among `names` (those it has), to pass on to the
  // gradient's ops.
  std::map<std::string, AttrValue> CopyAttrs(std::initializer_list<const char*> names) const;
  Output input(int i) const;
  Output output(int i) const { return {node_, i}; }
  int num_inputs() const { return node_->num_inputs(); }
  // The gradient of output i: zeros shaped like the output when none flowed into it.
  Output grad(int i);
  bool has_grad(int i) const { return grads_[i].valid(); }

  // Records the gradient of input i (invalid: no gradient).
  void SetInputGrad(int i, Output grad) { input_grads_[i] = grad; }
  const std::vector<Output>& input_grads() const { return input_grads_; }
  const absl::Status& status() const { return status_; }

  // The name scope of the whole gradient ("gradients"): what TensorArrays' gradient
  // arrays are keyed by.
  const std::string& gradient_scope() const { return root_scope_; }
  void set_gradient_scope(std::string scope) { root_scope_ = std::move(scope); }

  // Adds a node under this gradient's name scope; its inputs' dtypes give its type attrs.
  Node* AddNode(const std::string& op, const std::vector<Output>& inputs,
                std::map<std::string, AttrValue> attrs = {});
  Output Op(const std::string& op, const std::vector<Output>& inputs,
            std::map<std::string, AttrValue> attrs = {});
  Output Const(const Tensor& value);
  // A scalar of `dtype` (the dtype of the gradient being built).
  Output Scalar(double value, DataType dtype);
  Output IntVector(const std::vector<int64_t>& values);

  Output Add(Output a, Output b) { return Op("AddV2", {a, b}); }
  Output Sub(Output a, Output b) { return Op("Sub", {a, b}); }
  Output Mul(Output a, Output b) { return Op("Mul", {a, b}); }
  Output Div(Output a, Output b) { return Op("RealDiv", {a, b}); }
  Output Neg(Output a) { return Op("Neg", {a}); }
  Output Shape(Output a) { return Op("Shape", {a}); }
  Output Reshape(Output a, Output shape) { return Op("Reshape", {a, shape}); }
  Output ZerosLike(Output a) { return Op("ZerosLike", {a}); }
  Output Cast(Output a, DataType to);
  Output Sum(Output a, Output axes, bool keep_dims = false);

  // `grad` has the broadcast shape of x and y; returns it summed back to x's shape.
  Output ReduceToShapeOf(Output grad, Output x, Output other, bool first);
  // Sets both input grads of a broadcasting binary op from full-shaped gx and gy.
  void SetBroadcastGrads(Output gx, Output gy);

  void Fail(const absl::Status& status);

 private:
  std::string UniqueName(const std::string& op);

  Graph* graph_;
  GradientFrame* frame_;
  Node* node_;
  std::vector<Output> grads_;
  Output live_;  // the first gradient given: live exactly when this gradient runs
  std::vector<Output> input_grads_;
  std::string scope_;
  std::string root_scope_;
  absl::Status status_;
};

// Adds nodes computing d(sum of ys)/d(xs) to `graph`, weighted by `grad_ys` (invalid
// entries mean ones). Returns one Output per x; invalid where no path leads from x to any
// y. Gradients do not flow through StopGradient, into `stop`, or into integer tensors.
// `scope` prefixes the new nodes' names ("gradients"). All or nothing: on error the graph
// is left as it was.
absl::StatusOr<std::vector<Output>> AddGradients(Graph* graph, const std::vector<Output>& ys,
                                                 const std::vector<Output>& xs,
                                                 const std::vector<Output>& grad_ys,
                                                 const std::vector<Output>& stop = {},
                                                 const std::string& scope = "gradients");

}  // namespace runnel
