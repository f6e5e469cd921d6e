// Optimizer update rules as fused kernels that update a variable in place.
#include "core/op_registry.h"

namespace runnel {
namespace {

absl::Status ApplyShape(InferenceContext* c) {
  auto merged = c->input(0).Merge(c->input(c->num_inputs() - 1));
  if (!merged.ok()) {
    return c->InvalidArgument("the variable has shape ", c->input(0).DebugString(),
                              " but its update has shape ",
                              c->input(c->num_inputs() - 1).DebugString());
  }
  for (int i = 1; i < c->num_inputs() - 1; ++i) RETURN_IF_ERROR(c->WithRank(i, 0));
  c->set_output(0, *merged);
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("ApplyGradientDescent")
    .SetNoGradient()
    .Input("var: Ref(T)")
    .Input("alpha: T")
    .Input("delta: T")
    .Output("out: Ref(T)")
    .Attr("T: {float, double}")
    .Attr("use_locking: bool = false")
    .SetShapeFn(ApplyShape)
    .Doc("var -= alpha * delta, in place.");

}  // namespace runnel
