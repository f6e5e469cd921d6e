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

REGISTER_OP("RandomShuffle")
    .Input("value: T")
    .Output("output: T")
    .Attr("seed: int = 0")
    .Attr("seed2: int = 0")
    .Attr("T: type")
    .SetIsStateful()
    .SetNoGradient()
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("value with its rows (dim 0) in a random order.");

REGISTER_OP("Multinomial")
    .Input("logits: T")
    .Input("num_samples: int32")
    .Output("output: output_dtype")
    .Attr("seed: int = 0")
    .Attr("seed2: int = 0")
    .Attr("T: {float, double}")
    .Attr("output_dtype: {int32, int64} = DT_INT64")
    .SetIsStateful()
    .SetNoGradient()
    .SetShapeFn([](InferenceContext* c) {
      RETURN_IF_ERROR(c->WithRank(0, 2));
      int64_t n = -1;
      c->ConstantScalar(1, &n);
      c->set_output(0, PartialShape{c->input(0).rank() == 2 ? c->input(0).dim(0) : -1, n});
      return absl::OkStatus();
    })
    .Doc("num_samples class indices per row, drawn from softmax(logits[row]).");

}  // namespace runnel
