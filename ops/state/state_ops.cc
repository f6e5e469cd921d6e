// Variables: VariableV2 holds a tensor across runs and outputs a reference to it; Assign,
// AssignAdd and AssignSub write through that reference. Readers that take the output as
// a plain value get the variable's value at the moment they are fed.
#include "core/op_registry.h"

namespace runnel {
namespace {

absl::Status VariableShape(InferenceContext* c) {
  PartialShape shape;
  RETURN_IF_ERROR(c->GetAttr("shape", &shape));
  c->set_output(0, shape);
  return absl::OkStatus();
}

absl::Status AssignShape(InferenceContext* c) {
  bool validate = true;
  if (c->attrs().Has("validate_shape")) RETURN_IF_ERROR(c->GetAttr("validate_shape", &validate));
  if (!validate) {
    c->set_output(0, c->input(1));
    return absl::OkStatus();
  }
  auto merged = c->input(0).Merge(c->input(1));
  if (!merged.ok()) {
    return c->InvalidArgument("the variable has shape ", c->input(0).DebugString(),
                              " but the value has shape ", c->input(1).DebugString());
  }
  c->set_output(0, *merged);
  return absl::OkStatus();
}

// AssignAdd and AssignSub: ref op= value.
void AssignUpdate(OpDefBuilder& b) {
  b.SetNoGradient()
      .Input("ref: Ref(T)")
      .Input("value: T")
      .Output("output_ref: Ref(T)")
      .Attr("T: {float, double, int32, int64, uint8, int16, int8}")
      .Attr("use_locking: bool = false")
      .SetShapeFn(AssignShape);
}

}  // namespace

REGISTER_OP("VariableV2")
    .SetNoGradient()
    .Output("ref: Ref(dtype)")
    .Attr("shape: shape")
    .Attr("dtype: type")
    .Attr("container: string = ''")
    .Attr("shared_name: string = ''")
    .SetIsStateful()
    .SetShapeFn(VariableShape)
    .Doc("A tensor that persists across runs of one session; outputs a reference to it.");

REGISTER_OP("Assign")
    .SetNoGradient()
    .Input("ref: Ref(T)")
    .Input("value: T")
    .Output("output_ref: Ref(T)")
    .Attr("T: type")
    .Attr("validate_shape: bool = true")
    .Attr("use_locking: bool = true")
    .SetShapeFn(AssignShape)
    .Doc(
        "Sets the variable to a copy of `value` (its shape must match unless "
        "validate_shape is false).");

REGISTER_OP("AssignAdd").Apply(AssignUpdate).Doc("Adds `value` to the variable in place.");

REGISTER_OP("AssignSub").Apply(AssignUpdate).Doc("Subtracts `value` from the variable in place.");

REGISTER_OP("IsVariableInitialized")
    .SetNoGradient()
    .Input("ref: Ref(dtype)")
    .Output("is_initialized: bool")
    .Attr("dtype: type")
    .SetShapeFn(shape_fn::Scalar)
    .Doc("Whether the variable has been assigned a value.");

}  // namespace runnel
