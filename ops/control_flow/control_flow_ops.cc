// Control flow ops: conditionals are Switch and Merge with dead tensors (see the executor).
#include "core/gradients.h"
#include "core/op_registry.h"

namespace runnel {
namespace {

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
// (the untaken side's is dead).
absl::Status SwitchGrad(GradientContext* g) {
  Node* merge = g->AddNode("Merge", {g->grad(0), g->grad(1)});
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
    .Doc("Forwards `data` to output_true if `pred`, else to output_false; the other output "
         "is dead, and so is whatever consumes it (up to a Merge).");

REGISTER_OP("Merge")
    .SetGradient(MergeGrad)
    .Input("inputs: N * T")
    .Output("output: T")
    .Output("value_index: int32")
    .Attr("T: type")
    .Attr("N: int >= 1")
    .SetShapeFn(MergeShape)
    .Doc("Forwards the live one of its inputs and its index; dead when all inputs are.");

}  // namespace runnel
