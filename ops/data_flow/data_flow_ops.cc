// Queues and gradient accumulators: state shared by the steps of several clients, which is
// how synchronous data-parallel training meets on a parameter server
// (tf.train.SyncReplicasOptimizer). The queue and the accumulator are stateful kernels
// held by their device; their `handle` output is a reference to a string naming them, and
// the ops that use them take that reference, so the placer keeps them on that device.
// Dequeuing from an empty queue and taking an accumulator's gradient before enough have
// come wait, and wake when the step is cancelled.
#include "core/op_registry.h"

namespace runnel {
namespace {

// Every component's shape from the `shapes` attr, when it gives them; `batched` puts an
// unknown batch dimension first (DequeueMany).
absl::Status ComponentShapes(InferenceContext* c, bool batched) {
  const AttrValue* shapes = c->attrs().Find("shapes");
  for (int i = 0; i < c->num_outputs(); ++i) {
    PartialShape shape = PartialShape::UnknownRank();
    if (shapes != nullptr && shapes->list().shape_size() == c->num_outputs()) {
      shape = PartialShape::FromProto(shapes->list().shape(i));
    }
    if (batched && !shape.unknown_rank()) {
      PartialShape rows{PartialShape::kUnknownDim};
      for (int64_t d : shape.dims()) rows.AddDim(d);
      shape = rows;
    }
    c->set_output(i, shape);
  }
  return absl::OkStatus();
}

absl::Status DequeueShape(InferenceContext* c) { return ComponentShapes(c, false); }
absl::Status DequeueManyShape(InferenceContext* c) { return ComponentShapes(c, true); }

absl::Status TakeGradientShape(InferenceContext* c) {
  c->set_output(0, PartialShape::UnknownRank());
  return absl::OkStatus();
}

// QueueEnqueue and QueueEnqueueMany take the same arguments.
void EnqueueSignature(OpDefBuilder& b) {
  b.SetNoGradient()
      .Input("handle: Ref(string)")
      .Input("components: Tcomponents")
      .Attr("Tcomponents: list(type) >= 1")
      .Attr("timeout_ms: int = -1")
      .SetIsStateful();
}

}  // namespace

REGISTER_OP("FIFOQueue")
    .SetNoGradient()
    .Output("handle: Ref(string)")
    .Attr("component_types: list(type) >= 1")
    .Attr("shapes: list(shape) >= 0 = []")
    .Attr("capacity: int = -1")
    .Attr("container: string = ''")
    .Attr("shared_name: string = ''")
    .SetIsStateful()
    .SetShapeFn(shape_fn::Scalar)
    .Doc("A first-in first-out queue of tuples of tensors (capacity -1: unbounded).");

REGISTER_OP("QueueEnqueue")
    .Apply(EnqueueSignature)
    .Doc("Adds one tuple to the queue, waiting while it is full.");

REGISTER_OP("QueueEnqueueMany")
    .Apply(EnqueueSignature)
    .Doc("Adds the tuples that slicing every component along dimension 0 makes.");

REGISTER_OP("QueueDequeue")
    .SetNoGradient()
    .Input("handle: Ref(string)")
    .Output("components: component_types")
    .Attr("component_types: list(type) >= 1")
    .Attr("timeout_ms: int = -1")
    .SetIsStateful()
    .SetShapeFn(DequeueShape)
    .Doc("Removes the oldest tuple, waiting while the queue is empty.");

REGISTER_OP("QueueDequeueMany")
    .SetNoGradient()
    .Input("handle: Ref(string)")
    .Input("n: int32")
    .Output("components: component_types")
    .Attr("component_types: list(type) >= 1")
    .Attr("timeout_ms: int = -1")
    .SetIsStateful()
    .SetShapeFn(DequeueManyShape)
    .Doc("Removes the oldest n tuples, stacked, waiting until there are n.");

REGISTER_OP("QueueSize")
    .SetNoGradient()
    .Input("handle: Ref(string)")
    .Output("size: int32")
    .SetIsStateful()
    .SetShapeFn(shape_fn::Scalar)
    .Doc("The number of tuples in the queue.");

REGISTER_OP("QueueClose")
    .SetNoGradient()
    .Input("handle: Ref(string)")
    .Attr("cancel_pending_enqueues: bool = false")
    .SetIsStateful()
    .Doc("Closes the queue: enqueues fail, dequeues drain it and then fail with OutOfRange.");

REGISTER_OP("ConditionalAccumulator")
    .SetNoGradient()
    .Output("handle: Ref(string)")
    .Attr("dtype: {float, double}")
    .Attr("shape: shape")
    .Attr("container: string = ''")
    .Attr("shared_name: string = ''")
    .Attr("reduction_type: {'MEAN', 'SUM'} = 'MEAN'")
    .SetIsStateful()
    .SetShapeFn(shape_fn::Scalar)
    .Doc(
        "Accumulates gradients of one shape; a gradient computed at a step older than the "
        "accumulator's global step is stale and dropped.");

REGISTER_OP("AccumulatorApplyGradient")
    .SetNoGradient()
    .Input("handle: Ref(string)")
    .Input("local_step: int64")
    .Input("gradient: dtype")
    .Attr("dtype: {float, double}")
    .SetIsStateful()
    .Doc("Adds `gradient` unless `local_step` is older than the accumulator's global step.");

REGISTER_OP("AccumulatorTakeGradient")
    .SetNoGradient()
    .Input("handle: Ref(string)")
    .Input("num_required: int32")
    .Output("average: dtype")
    .Attr("dtype: {float, double}")
    .SetIsStateful()
    .SetShapeFn(TakeGradientShape)
    .Doc(
        "Waits for `num_required` gradients, returns their mean (or sum), clears the "
        "accumulator and advances its global step by one.");

REGISTER_OP("AccumulatorNumAccumulated")
    .SetNoGradient()
    .Input("handle: Ref(string)")
    .Output("num_accumulated: int32")
    .SetIsStateful()
    .SetShapeFn(shape_fn::Scalar)
    .Doc("How many gradients the accumulator holds.");

REGISTER_OP("AccumulatorSetGlobalStep")
    .SetNoGradient()
    .Input("handle: Ref(string)")
    .Input("new_global_step: int64")
    .SetIsStateful()
    .Doc("Sets the step below which gradients are stale.");

}  // namespace runnel
