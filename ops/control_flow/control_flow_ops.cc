// Control flow ops: conditionals are Switch and Merge with dead tensors, loops add Enter,
// Exit, NextIteration and LoopCond, which move tensors between frames and iterations (see
// the executor).
#include "core/gradients.h"
#include "core/op_registry.h"

namespace runnel {
namespace {

absl::Status LoopCondShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 0));
  c->set_output(0, c->input(0));
  return absl::OkStatus();
}

absl::Status SwitchShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(1, 0));
  c->set_output(0, c->input(0));
  c->set_output(1, c->input(0));
  return absl::OkStatus();
}

// The output has what all inputs agree on: their rank if equal, and each dim all share.
absl::Status MergeShape(InferenceContext* c) {
  PartialShape out = c->input(0);
  for (int i = 1; i < c->num_inputs() && !out.unknown_rank(); ++i) {
    const PartialShape& in = c->input(i);
    if (in.rank() != out.rank()) {
      out = PartialShape::UnknownRank();
      break;
    }
    for (int d = 0; d < out.rank(); ++d) {
      if (in.dim(d) != out.dim(d)) out.set_dim(d, PartialShape::kUnknownDim);
    }
  }
  c->set_output(0, out);
  c->set_output(1, PartialShape::UnknownWithRank(0));  // a scalar
  return absl::OkStatus();
}

// The gradient reaches the input whose side was taken: a Merge of both outputs' gradients
// (the untaken side's is dead). A side that no gradient reached gives zeros, switched by
// the same predicate so that they are live exactly when that side was taken (zeros
// shaped from the side's own output would need the dead value inside a loop's gradient).
absl::Status SwitchGrad(GradientContext* g) {
  std::vector<Output> grads;
  for (int side = 0; side < 2; ++side) {
    Output grad = g->has_grad(side) ? g->grad(side) : Output{};
    if (!grad.valid()) {
      Node* zeros = g->AddNode("Switch", {g->ZerosLike(g->input(0)), g->input(1)});
      grad = {zeros, side};
    }
    grads.push_back(grad);
  }
  Node* merge = g->AddNode("Merge", grads);
  g->SetInputGrad(0, {merge, 0});
  return absl::OkStatus();
}

// Input i receives the gradient only when it was the one forwarded (value_index == i).
absl::Status MergeGrad(GradientContext* g) {
  Output dy = g->grad(0);
  for (int i = 0; i < g->num_inputs(); ++i) {
    Tensor index(DT_INT32, TensorShape{});
    *index.data<int32_t>() = i;
    Output taken = g->Op("Equal", {g->output(1), g->Const(index)});
    g->SetInputGrad(i, {g->AddNode("Switch", {dy, taken}), 1});
  }
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("Switch")
    .SetGradient(SwitchGrad)
    .Input("data: T")
    .Input("pred: bool")
    .Output("output_false: T")
    .Output("output_true: T")
    .Attr("T: type")
    .SetShapeFn(SwitchShape)
    .Doc(
        "Forwards `data` to output_true if `pred`, else to output_false; the other output "
        "is dead, and so is whatever consumes it (up to a Merge).");

REGISTER_OP("Merge")
    .SetGradient(MergeGrad)
    .Input("inputs: N * T")
    .Output("output: T")
    .Output("value_index: int32")
    .Attr("T: type")
    .Attr("N: int >= 1")
    .SetShapeFn(MergeShape)
    .Doc(
        "Forwards the first live one of its inputs and its index; dead when all inputs "
        "are. In a loop it takes the loop variable from Enter in the first iteration and "
        "from NextIteration in the others.");

REGISTER_OP("Enter")
    .Input("data: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("frame_name: string")
    .Attr("is_constant: bool = false")
    .Attr("parallel_iterations: int = 10")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc(
        "Forwards `data` into the first iteration of the child frame `frame_name` (a "
        "loop), or into every iteration when `is_constant`; at most `parallel_iterations` "
        "iterations of the frame run at once.");

REGISTER_OP("RefEnter")
    .Input("data: Ref(T)")
    .Output("output: Ref(T)")
    .Attr("T: type")
    .Attr("frame_name: string")
    .Attr("is_constant: bool = false")
    .Attr("parallel_iterations: int = 10")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("Enter for a variable's reference: the loop reads and updates the variable itself.");

REGISTER_OP("Exit")
    .Input("data: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("Forwards `data` from a loop's frame to the frame around it.");

REGISTER_OP("NextIteration")
    .Input("data: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("Forwards `data` to the next iteration of its frame.");

REGISTER_OP("LoopCond")
    .Input("input: bool")
    .Output("output: bool")
    .SetShapeFn(LoopCondShape)
    .Doc("Forwards a loop's condition to the Switches that carry on or leave the loop.");

REGISTER_OP("ControlTrigger")
    .Doc(
        "Does nothing, and runs (live) once its control inputs arrived, dead or not: what "
        "waits for ops that may be dead (a while loop's gradient orders its stacks so).");

REGISTER_OP("Assert")
    .SetIsStateful()
    .Input("condition: bool")
    .Input("data: T")
    .Attr("T: list(type) >= 1")
    .Attr("summarize: int = 3")
    .Doc(
        "Fails the step when `condition` is false, showing the first `summarize` entries of "
        "each of `data`. (TensorFlow's graphs check their loops' inputs with it.)");

}  // namespace runnel
