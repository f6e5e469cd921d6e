// Stacks, TensorFlow's V2 ops: what the gradient of a while loop keeps of the forward
// loop's values (core/gradients.cc pushes each one every forward iteration and pops it in
// the matching iteration of the backward loop). The handle is a DT_RESOURCE scalar that
// keeps the stack alive for the step.
#include "core/op_registry.h"

namespace runnel {

REGISTER_OP("StackV2")
    .SetNoGradient()
    .Input("max_size: int32")
    .Output("handle: resource")
    .Attr("elem_type: type")
    .Attr("stack_name: string = ''")
    .SetIsStateful()
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, PartialShape::UnknownWithRank(0));
      return absl::OkStatus();
    })
    .Doc("A new empty stack of `elem_type` tensors; max_size < 0 means no limit.");

REGISTER_OP("StackPushV2")
    .SetNoGradient()
    .Input("handle: resource")
    .Input("elem: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("swap_memory: bool = false")
    .SetIsStateful()
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(1));
      return absl::OkStatus();
    })
    .Doc("Pushes `elem` (shared, not copied) and outputs it.");

REGISTER_OP("StackPopV2")
    .SetNoGradient()
    .Input("handle: resource")
    .Output("elem: elem_type")
    .Attr("elem_type: type")
    .SetIsStateful()
    .Doc("Pops the last tensor pushed (an error when the stack is empty).");

REGISTER_OP("StackCloseV2")
    .SetNoGradient()
    .Input("handle: resource")
    .SetIsStateful()
    .Doc("Drops what the stack still holds.");

}  // namespace runnel
