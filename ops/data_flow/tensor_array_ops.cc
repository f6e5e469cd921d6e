// TensorArrays, TensorFlow's V3 ops: a list of tensors that a while loop writes one
// element per iteration (tf.TensorArray, tf.nn.dynamic_rnn, tf.map_fn). The handle is a
// DT_RESOURCE scalar that keeps the array alive; the float `flow` tensor each op takes
// and gives orders the reads after the writes they need, since the array itself changes in
// place.
#include "core/gradients.h"
#include "core/op_registry.h"

namespace runnel {
namespace {

absl::Status ScalarFlow(InferenceContext* c, int output) {
  c->set_output(output, PartialShape::UnknownWithRank(0));
  return absl::OkStatus();
}

absl::Status CreateShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 0));
  c->set_output(0, PartialShape::UnknownWithRank(0));
  return ScalarFlow(c, 1);
}

absl::Status FlowOutShape(InferenceContext* c) { return ScalarFlow(c, 0); }

absl::Status ReadShape(InferenceContext* c) {
  c->set_output(0, PartialShape::UnknownRank());
  return absl::OkStatus();
}

// Gather: [len(indices)] + element_shape.
absl::Status GatherShape(InferenceContext* c) {
  PartialShape element;
  RETURN_IF_ERROR(c->GetAttr("element_shape", &element));
  RETURN_IF_ERROR(c->WithRank(1, 1));
  if (element.unknown_rank()) {
    c->set_output(0, PartialShape::UnknownRank());
    return absl::OkStatus();
  }
  const PartialShape& indices = c->input(1);
  PartialShape out{indices.unknown_rank() ? PartialShape::kUnknownDim : indices.dim(0)};
  for (int64_t d : element.dims()) out.AddDim(d);
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status ConcatShape(InferenceContext* c) {
  PartialShape except0;
  RETURN_IF_ERROR(c->GetAttr("element_shape_except0", &except0));
  if (except0.unknown_rank()) {
    c->set_output(0, PartialShape::UnknownRank());
  } else {
    PartialShape out{PartialShape::kUnknownDim};
    for (int64_t d : except0.dims()) out.AddDim(d);
    c->set_output(0, out);
  }
  c->set_output(1, PartialShape{PartialShape::kUnknownDim});
  return absl::OkStatus();
}

absl::Status SizeShape(InferenceContext* c) {
  c->set_output(0, PartialShape::UnknownWithRank(0));
  return absl::OkStatus();
}

absl::Status GradShape(InferenceContext* c) {
  c->set_output(0, PartialShape::UnknownWithRank(0));
  return ScalarFlow(c, 1);
}

// Gradients, as TensorFlow's: each forward array has a gradient array (TensorArrayGradV3,
// keyed by the gradient's scope) where the gradients of its elements add up. A read's
// gradient writes to it, a write's gradient reads from it, gather and scatter likewise;
// the flows carry the order.
struct GradArray {
  Output handle, flow;
};

GradArray GradientArray(GradientContext* g, Output flow) {
  Node* grad = g->AddNode("TensorArrayGradV3", {g->input(0), flow},
                          {{"source", MakeAttr(g->gradient_scope())}});
  return {{grad, 0}, {grad, 1}};
}

absl::Status ReadGrad(GradientContext* g) {  // (handle, index, flow) -> value
  GradArray array = GradientArray(g, g->input(2));
  g->SetInputGrad(2,
                  g->Op("TensorArrayWriteV3", {array.handle, g->input(1), g->grad(0), array.flow}));
  return absl::OkStatus();
}

absl::Status WriteGrad(GradientContext* g) {  // (handle, index, value, flow) -> flow
  GradArray array = GradientArray(g, g->grad(0));
  g->SetInputGrad(2, g->Op("TensorArrayReadV3", {array.handle, g->input(1), array.flow},
                           {{"dtype", MakeAttr(g->input(2).dtype())}}));
  g->SetInputGrad(3, g->grad(0));
  return absl::OkStatus();
}

absl::Status GatherGrad(GradientContext* g) {  // (handle, indices, flow) -> value
  GradArray array = GradientArray(g, g->input(2));
  g->SetInputGrad(
      2, g->Op("TensorArrayScatterV3", {array.handle, g->input(1), g->grad(0), array.flow}));
  return absl::OkStatus();
}

absl::Status ScatterGrad(GradientContext* g) {  // (handle, indices, value, flow) -> flow
  GradArray array = GradientArray(g, g->grad(0));
  g->SetInputGrad(2, g->Op("TensorArrayGatherV3", {array.handle, g->input(1), array.flow},
                           {{"dtype", MakeAttr(g->input(2).dtype())}}));
  g->SetInputGrad(3, g->grad(0));
  return absl::OkStatus();
}

absl::Status ConcatGrad(GradientContext* g) {  // (handle, flow) -> (value, lengths)
  GradArray array = GradientArray(g, g->input(1));
  g->SetInputGrad(
      1, g->Op("TensorArraySplitV3", {array.handle, g->grad(0), g->output(1), array.flow}));
  return absl::OkStatus();
}

absl::Status SplitGrad(GradientContext* g) {  // (handle, value, lengths, flow) -> flow
  GradArray array = GradientArray(g, g->grad(0));
  g->SetInputGrad(1, g->Op("TensorArrayConcatV3", {array.handle, array.flow},
                           {{"dtype", MakeAttr(g->input(1).dtype())}}));
  g->SetInputGrad(3, g->grad(0));
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("TensorArrayV3")
    .SetNoGradient()
    .Input("size: int32")
    .Output("handle: resource")
    .Output("flow: float")
    .Attr("dtype: type")
    .Attr("element_shape: shape = { unknown_rank: true }")
    .Attr("dynamic_size: bool = false")
    .Attr("clear_after_read: bool = true")
    .Attr("identical_element_shapes: bool = false")
    .Attr("tensor_array_name: string = ''")
    .SetIsStateful()
    .SetShapeFn(CreateShape)
    .Doc(
        "A new TensorArray of `size` elements of `dtype`, empty; `dynamic_size` lets writes "
        "grow it, `clear_after_read` frees an element when it is read (a second read is an "
        "error).");

REGISTER_OP("TensorArrayWriteV3")
    .SetGradient(WriteGrad)
    .Input("handle: resource")
    .Input("index: int32")
    .Input("value: T")
    .Input("flow_in: float")
    .Output("flow_out: float")
    .Attr("T: type")
    .SetIsStateful()
    .SetShapeFn(FlowOutShape)
    .Doc(
        "Writes `value` as element `index` (once per element, except in a gradient's "
        "array, where writes add up).");

REGISTER_OP("TensorArrayReadV3")
    .SetGradient(ReadGrad)
    .Input("handle: resource")
    .Input("index: int32")
    .Input("flow_in: float")
    .Output("value: dtype")
    .Attr("dtype: type")
    .SetIsStateful()
    .SetShapeFn(ReadShape)
    .Doc(
        "Element `index` (zeros of the element shape when it was never written and that "
        "shape is fully known).");

REGISTER_OP("TensorArrayGatherV3")
    .SetGradient(GatherGrad)
    .Input("handle: resource")
    .Input("indices: int32")
    .Input("flow_in: float")
    .Output("value: dtype")
    .Attr("dtype: type")
    .Attr("element_shape: shape = { unknown_rank: true }")
    .SetIsStateful()
    .SetShapeFn(GatherShape)
    .Doc("The elements at `indices`, stacked along a new first dimension.");

REGISTER_OP("TensorArrayScatterV3")
    .SetGradient(ScatterGrad)
    .Input("handle: resource")
    .Input("indices: int32")
    .Input("value: T")
    .Input("flow_in: float")
    .Output("flow_out: float")
    .Attr("T: type")
    .SetIsStateful()
    .SetShapeFn(FlowOutShape)
    .Doc("Writes row i of `value` as element indices[i].");

REGISTER_OP("TensorArrayConcatV3")
    .SetGradient(ConcatGrad)
    .Input("handle: resource")
    .Input("flow_in: float")
    .Output("value: dtype")
    .Output("lengths: int64")
    .Attr("dtype: type")
    .Attr("element_shape_except0: shape = { unknown_rank: true }")
    .SetIsStateful()
    .SetShapeFn(ConcatShape)
    .Doc("Every element joined along its first dimension, and each one's length there.");

REGISTER_OP("TensorArraySplitV3")
    .SetGradient(SplitGrad)
    .Input("handle: resource")
    .Input("value: T")
    .Input("lengths: int64")
    .Input("flow_in: float")
    .Output("flow_out: float")
    .Attr("T: type")
    .SetIsStateful()
    .SetShapeFn(FlowOutShape)
    .Doc(
        "Cuts `value` along its first dimension into pieces of `lengths` rows, written as "
        "elements 0, 1, ...");

REGISTER_OP("TensorArraySizeV3")
    .SetNoGradient()
    .Input("handle: resource")
    .Input("flow_in: float")
    .Output("size: int32")
    .SetIsStateful()
    .SetShapeFn(SizeShape)
    .Doc("The number of elements.");

REGISTER_OP("TensorArrayCloseV3")
    .SetNoGradient()
    .Input("handle: resource")
    .SetIsStateful()
    .Doc("Frees the elements; the array can no longer be used.");

REGISTER_OP("TensorArrayGradV3")
    .SetNoGradient()
    .Input("handle: resource")
    .Input("flow_in: float")
    .Output("grad_handle: resource")
    .Output("flow_out: float")
    .Attr("source: string")
    .SetIsStateful()
    .SetShapeFn(GradShape)
    .Doc(
        "The gradient's array of `handle` for `source` (one per source, made on first use): "
        "as large as the forward array, and writes to one element add up.");

}  // namespace runnel
