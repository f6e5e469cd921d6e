// Random tensors. Each op keeps its own generator, seeded from (seed, seed2) (random when
// both are 0), whose stream advances from run to run, as in TensorFlow: the same seeds in
// a fresh session give the same sequence.
#include "core/op_registry.h"

namespace runnel {
namespace {

absl::Status ShapeFromInput0(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 1));
  c->set_output(0, c->ShapeFromShapeTensor(0));
  return absl::OkStatus();
}

void RandomAttrs(OpDefBuilder& b) {
  b.Attr("seed: int = 0")
      .Attr("seed2: int = 0")
      .Attr("T: {int32, int64}")
      .SetIsStateful()
      .SetNoGradient()
      .SetShapeFn(ShapeFromInput0);
}

}  // namespace

REGISTER_OP("RandomUniform")
    .Input("shape: T")
    .Output("output: dtype")
    .Attr("dtype: {float, double}")
    .Apply(RandomAttrs)
    .Doc("Uniform values in [0, 1).");

REGISTER_OP("RandomStandardNormal")
    .Input("shape: T")
    .Output("output: dtype")
    .Attr("dtype: {float, double}")
    .Apply(RandomAttrs)
    .Doc("Normal values with mean 0 and standard deviation 1.");

REGISTER_OP("TruncatedNormal")
    .Input("shape: T")
    .Output("output: dtype")
    .Attr("dtype: {float, double}")
    .Apply(RandomAttrs)
    .Doc("Standard normal values, redrawn when more than 2 standard deviations from 0.");

REGISTER_OP("RandomUniformInt")
    .Input("shape: T")
    .Input("minval: Tout")
    .Input("maxval: Tout")
    .Output("output: Tout")
    .Attr("Tout: {int32, int64}")
    .Apply(RandomAttrs)
    .Doc("Uniform integers in [minval, maxval).");

}  // namespace runnel
