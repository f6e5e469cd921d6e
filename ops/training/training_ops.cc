// Optimizer update rules as fused kernels that update a variable (and its slots, e.g.
// Adam's moments) in place. Input orders follow TensorFlow's Apply* ops.
#include "core/op_registry.h"

namespace runnel {
namespace {

// Inputs [0, refs) are the variable and its slots; `grad` is the gradient; the other
// inputs are scalars.
ShapeFn ApplyShape(int refs, int grad) {
  return [refs, grad](InferenceContext* c) -> absl::Status {
    PartialShape shape = c->input(grad);
    for (int i = 0; i < refs; ++i) {
      auto merged = shape.Merge(c->input(i));
      if (!merged.ok()) {
        return c->InvalidArgument("input ", i, " has shape ", c->input(i).DebugString(),
                                  " but the gradient has shape ", c->input(grad).DebugString());
      }
      shape = *merged;
    }
    for (int i = refs; i < c->num_inputs(); ++i) {
      if (i != grad) RETURN_IF_ERROR(c->WithRank(i, 0));
    }
    c->set_output(0, shape);
    return absl::OkStatus();
  };
}

std::function<void(OpDefBuilder&)> Apply(std::vector<std::string> refs,
                                         std::vector<std::string> inputs, std::string grad) {
  return [refs, inputs, grad](OpDefBuilder& b) {
    int grad_index = static_cast<int>(refs.size());
    for (const auto& r : refs) b.Input(r + ": Ref(T)");
    for (const auto& in : inputs) b.Input(in + ": T");
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (inputs[i] == grad) grad_index += static_cast<int>(i);
    }
    b.Output("out: Ref(T)")
        .Attr("T: {float, double}")
        .Attr("use_locking: bool = false")
        .SetNoGradient()
        .SetShapeFn(ApplyShape(static_cast<int>(refs.size()), grad_index));
  };
}

}  // namespace

REGISTER_OP("ApplyGradientDescent")
    .Apply(Apply({"var"}, {"alpha", "delta"}, "delta"))
    .Doc("var -= alpha * delta.");

REGISTER_OP("ApplyMomentum")
    .Apply(Apply({"var", "accum"}, {"lr", "grad", "momentum"}, "grad"))
    .Attr("use_nesterov: bool = false")
    .Doc(
        "accum = accum * momentum + grad; var -= lr * accum (Nesterov: "
        "var -= lr * (grad + momentum * accum)).");

REGISTER_OP("ApplyAdagrad")
    .Apply(Apply({"var", "accum"}, {"lr", "grad"}, "grad"))
    .Attr("update_slots: bool = true")
    .Doc("accum += grad^2; var -= lr * grad / sqrt(accum).");

REGISTER_OP("ApplyRMSProp")
    .Apply(Apply({"var", "ms", "mom"}, {"lr", "rho", "momentum", "epsilon", "grad"}, "grad"))
    .Doc(
        "ms = rho ms + (1 - rho) grad^2; mom = momentum mom + lr grad / sqrt(ms + epsilon); "
        "var -= mom.");

REGISTER_OP("ApplyCenteredRMSProp")
    .Apply(Apply({"var", "mg", "ms", "mom"}, {"lr", "rho", "momentum", "epsilon", "grad"}, "grad"))
    .Doc("As ApplyRMSProp with ms - mg^2 in place of ms, mg = rho mg + (1 - rho) grad.");

REGISTER_OP("ApplyAdam")
    .Apply(Apply({"var", "m", "v"},
                 {"beta1_power", "beta2_power", "lr", "beta1", "beta2", "epsilon", "grad"}, "grad"))
    .Attr("use_nesterov: bool = false")
    .Doc(
        "m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; var -= lr sqrt(1 - b2^t) / "
        "(1 - b1^t) * m / (sqrt(v) + epsilon).");

}  // namespace runnel
