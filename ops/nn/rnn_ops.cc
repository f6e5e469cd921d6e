// A fused LSTM step, TensorFlow's LSTMBlockCell (tf.contrib.rnn.LSTMBlockCell, kept in
// tf.raw_ops): gates i, ci, f, o from [x, h_prev] @ w + b (BasicLSTMCell's layout and
// order), optional peepholes. tf.nn.rnn_cell's LSTM cells use it (one node per step
// instead of a dozen, and a dozen fewer forward values kept for the gradient).
#include "core/gradients.h"
#include "core/op_registry.h"

namespace runnel {
namespace {

// Every output is [batch, cell] (cs_prev's shape, or h_prev's).
absl::Status LSTMBlockCellShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 2));
  RETURN_IF_ERROR(c->WithRank(1, 2));
  RETURN_IF_ERROR(c->WithRank(3, 2));
  const PartialShape& cs = c->input(1);
  PartialShape state = cs.unknown_rank() ? PartialShape::UnknownWithRank(2) : cs;
  for (int k = 0; k < 7; ++k) c->set_output(k, state);
  return absl::OkStatus();
}

absl::Status LSTMBlockCellGradShape(InferenceContext* c) {
  const PartialShape& cs = c->input(1);
  PartialShape state = cs.unknown_rank() ? PartialShape::UnknownWithRank(2) : cs;
  c->set_output(0, state);
  PartialShape gates{state.dim(0), state.dim(1) < 0 ? PartialShape::kUnknownDim : 4 * state.dim(1)};
  c->set_output(1, gates);
  for (int k = 2; k < 5; ++k) c->set_output(k, PartialShape{state.dim(1)});
  return absl::OkStatus();
}

// The gradients of cs and h go through LSTMBlockCellGrad to the gates' (dicfo); the
// products with [x, h_prev] and w give the rest. (The other outputs are for the
// gradient; gradients reaching them are not followed, as in TensorFlow.)
absl::Status LSTMBlockCellGrad(GradientContext* g) {
  const int64_t input_size = g->input(0).shape().rank() == 2 ? g->input(0).shape().dim(1) : -1;
  if (input_size < 0) {
    return absl::UnimplementedError("the gradient of LSTMBlockCell needs x's width known");
  }
  std::vector<Output> args;
  for (int k = 0; k < 8; ++k) args.push_back(g->input(k));
  for (int k = 0; k < 6; ++k) args.push_back(g->output(k));
  args.push_back(g->grad(1));
  args.push_back(g->grad(6));
  Node* grad = g->AddNode("LSTMBlockCellGrad", args, g->CopyAttrs({"use_peephole"}));
  if (grad == nullptr) return g->status();
  const Output dicfo{grad, 1};
  const Output w = g->input(3);
  Output xh_grad = g->Op("MatMul", {dicfo, w}, {{"transpose_b", MakeAttr(true)}});
  Node* split =
      g->AddNode("SplitV", {xh_grad, g->IntVector({input_size, -1}), g->Scalar(1, DT_INT32)},
                 {{"num_split", MakeAttr(int64_t{2})}});
  Output xh = g->Op("ConcatV2", {g->input(0), g->input(2), g->Scalar(1, DT_INT32)});
  g->SetInputGrad(0, {split, 0});
  g->SetInputGrad(1, {grad, 0});
  g->SetInputGrad(2, {split, 1});
  g->SetInputGrad(3, g->Op("MatMul", {xh, dicfo}, {{"transpose_a", MakeAttr(true)}}));
  for (int k = 0; k < 3; ++k) g->SetInputGrad(4 + k, {grad, 2 + k});
  g->SetInputGrad(7, g->Op("BiasAddGrad", {dicfo}));
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("LSTMBlockCell")
    .SetGradient(LSTMBlockCellGrad)
    .Input("x: T")
    .Input("cs_prev: T")
    .Input("h_prev: T")
    .Input("w: T")
    .Input("wci: T")
    .Input("wcf: T")
    .Input("wco: T")
    .Input("b: T")
    .Output("i: T")
    .Output("cs: T")
    .Output("f: T")
    .Output("o: T")
    .Output("ci: T")
    .Output("co: T")
    .Output("h: T")
    .Attr("forget_bias: float = 1.0")
    .Attr("cell_clip: float = 3.0")
    .Attr("use_peephole: bool = false")
    .Attr("T: {float, double}")
    .SetShapeFn(LSTMBlockCellShape)
    .Doc(
        "One LSTM step: i, ci, f, o = split([x, h_prev] @ w + b) (peepholes wci, wcf, wco on "
        "the cell state when use_peephole), cs = sigmoid(i) * tanh(ci) + sigmoid(f + "
        "forget_bias) * cs_prev (clipped to cell_clip when >= 0), h = tanh(cs) * sigmoid(o); "
        "the activated gates come out too, for the gradient.");

REGISTER_OP("LSTMBlockCellGrad")
    .Input("x: T")
    .Input("cs_prev: T")
    .Input("h_prev: T")
    .Input("w: T")
    .Input("wci: T")
    .Input("wcf: T")
    .Input("wco: T")
    .Input("b: T")
    .Input("i: T")
    .Input("cs: T")
    .Input("f: T")
    .Input("o: T")
    .Input("ci: T")
    .Input("co: T")
    .Input("cs_grad: T")
    .Input("h_grad: T")
    .Output("cs_prev_grad: T")
    .Output("dicfo: T")
    .Output("wci_grad: T")
    .Output("wcf_grad: T")
    .Output("wco_grad: T")
    .Attr("use_peephole: bool")
    .Attr("T: {float, double}")
    .SetShapeFn(LSTMBlockCellGradShape)
    .Doc(
        "LSTMBlockCell's backward step from the gradients of cs and h: the gradient of "
        "cs_prev, of the gates before activation (dicfo) and of the peepholes.");

}  // namespace runnel
