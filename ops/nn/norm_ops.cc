// Normalization ops: batch normalization as one op (FusedBatchNorm, V2, V3) and local
// response normalization (LRN), with their gradients and TensorFlow's names, attributes
// and outputs.
#include "absl/strings/str_cat.h"
#include "core/gradients.h"
#include "core/op_registry.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

// x and y are [N, H, W, C] (or NCHW); scale, offset, mean and variance [C] (mean and
// variance may be empty when training: they are only read to blend into the moving
// averages).
absl::Status FusedBatchNormShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 4));
  for (int i = 1; i <= 4; ++i) RETURN_IF_ERROR(c->WithRank(i, 1));
  std::string format = "NHWC";
  if (c->attrs().Has("data_format")) RETURN_IF_ERROR(c->GetAttr("data_format", &format));
  const PartialShape& x = c->input(0);
  int64_t channels = x.unknown_rank() ? -1 : x.dim(format == "NCHW" ? 1 : 3);
  for (int i = 1; i <= 2; ++i) {
    const PartialShape& v = c->input(i);
    if (v.rank() != 1 || v.dim(0) < 0) continue;
    if (channels >= 0 && v.dim(0) != channels) {
      return c->InvalidArgument(i == 1 ? "scale" : "offset", " has ", v.dim(0),
                                " elements but x has ", channels, " channels (", format,
                                " shape ", x.DebugString(), ")");
    }
    channels = v.dim(0);
  }
  c->set_output(0, x);
  for (int i = 1; i < 5; ++i) c->set_output(i, PartialShape{channels});
  // V3's reserve_space_3 is opaque: its shape stays unknown.
  return absl::OkStatus();
}

absl::Status FusedBatchNormGradShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 4));
  RETURN_IF_ERROR(c->WithRank(1, 4));
  c->set_output(0, c->input(1));
  const PartialShape& scale = c->input(2);
  const int64_t channels = scale.rank() == 1 ? scale.dim(0) : -1;
  c->set_output(1, PartialShape{channels});
  c->set_output(2, PartialShape{channels});
  for (int i = 3; i < c->num_outputs(); ++i) c->set_output(i, PartialShape{0});
  return absl::OkStatus();
}

// d x, d scale and d offset from FusedBatchNormGrad: with the batch's statistics (the
// reserve spaces) when training, with the given mean and variance otherwise.
absl::Status FusedBatchNormGradient(GradientContext* g, const std::string& grad_op, bool v3) {
  bool training = true;
  if (g->attrs().Has("is_training")) RETURN_IF_ERROR(g->attrs().Get("is_training", &training));
  auto attrs = g->CopyAttrs({"epsilon", "data_format", "is_training"});
  std::vector<Output> inputs = {g->grad(0), g->input(0), g->input(1),
                                training ? g->output(3) : g->input(3),
                                training ? g->output(4) : g->input(4)};
  if (v3) inputs.push_back(g->output(5));
  Node* grad = g->AddNode(grad_op, inputs, attrs);
  if (grad == nullptr) return g->status();
  for (int i = 0; i < 3; ++i) g->SetInputGrad(i, Output{grad, i});
  return absl::OkStatus();
}

std::function<void(OpDefBuilder&)> NormAttrs(bool separate_u) {
  return [separate_u](OpDefBuilder& b) {
    b.Attr("T: {half, bfloat16, float, double}");
    if (separate_u) b.Attr("U: {float, double}");
    b.Attr("epsilon: float = 0.0001")
        .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
        .Attr("is_training: bool = true");
  };
}

void FusedBatchNormDef(OpDefBuilder& b, bool separate_u, bool v3) {
  const char* u = separate_u ? "U" : "T";
  b.Input("x: T")
      .Input(absl::StrCat("scale: ", u))
      .Input(absl::StrCat("offset: ", u))
      .Input(absl::StrCat("mean: ", u))
      .Input(absl::StrCat("variance: ", u))
      .Output("y: T")
      .Output(absl::StrCat("batch_mean: ", u))
      .Output(absl::StrCat("batch_variance: ", u))
      .Output(absl::StrCat("reserve_space_1: ", u))
      .Output(absl::StrCat("reserve_space_2: ", u));
  if (v3) b.Output(absl::StrCat("reserve_space_3: ", u));
  b.Apply(NormAttrs(separate_u))
      .Attr("exponential_avg_factor: float = 1.0")
      .SetShapeFn(FusedBatchNormShape)
      .Doc(
          "Batch normalization: y = scale * (x - mean) / sqrt(variance + epsilon) + offset over "
          "the channel dim. Training uses the batch's mean and (biased) variance and returns "
          "them blended into the given ones by exponential_avg_factor (the variance "
          "Bessel-corrected); reserve_space_1/2 hold the batch mean and biased variance for "
          "the gradient. Inference uses the given mean and variance.");
}

void FusedBatchNormGradDef(OpDefBuilder& b, bool separate_u, bool v3) {
  const char* u = separate_u ? "U" : "T";
  b.Input("y_backprop: T")
      .Input("x: T")
      .Input(absl::StrCat("scale: ", u))
      .Input(absl::StrCat("reserve_space_1: ", u))
      .Input(absl::StrCat("reserve_space_2: ", u));
  if (v3) b.Input(absl::StrCat("reserve_space_3: ", u));
  b.Output("x_backprop: T")
      .Output(absl::StrCat("scale_backprop: ", u))
      .Output(absl::StrCat("offset_backprop: ", u))
      .Output(absl::StrCat("reserve_space_", v3 ? 4 : 3, ": ", u))
      .Output(absl::StrCat("reserve_space_", v3 ? 5 : 4, ": ", u))
      .Apply(NormAttrs(separate_u))
      .SetShapeFn(FusedBatchNormGradShape)
      .Doc(
          "The gradient of FusedBatchNorm for x, scale and offset, given the mean and variance "
          "it normalized with (reserve_space_1/2 when training).");
}

void LrnAttrs(OpDefBuilder& b) {
  b.Attr("depth_radius: int = 5")
      .Attr("bias: float = 1.0")
      .Attr("alpha: float = 1.0")
      .Attr("beta: float = 0.5")
      .Attr("T: {half, bfloat16, float, double} = DT_FLOAT");
}

}  // namespace

REGISTER_OP("FusedBatchNorm")
    .SetGradient([](GradientContext* g) { return FusedBatchNormGradient(g, "FusedBatchNormGrad", false); })
    .Apply([](OpDefBuilder& b) { FusedBatchNormDef(b, false, false); });
REGISTER_OP("FusedBatchNormV2")
    .SetGradient([](GradientContext* g) { return FusedBatchNormGradient(g, "FusedBatchNormGradV2", false); })
    .Apply([](OpDefBuilder& b) { FusedBatchNormDef(b, true, false); });
REGISTER_OP("FusedBatchNormV3")
    .SetGradient([](GradientContext* g) { return FusedBatchNormGradient(g, "FusedBatchNormGradV3", true); })
    .Apply([](OpDefBuilder& b) { FusedBatchNormDef(b, true, true); });
REGISTER_OP("FusedBatchNormGrad").Apply([](OpDefBuilder& b) { FusedBatchNormGradDef(b, false, false); });
REGISTER_OP("FusedBatchNormGradV2").Apply([](OpDefBuilder& b) { FusedBatchNormGradDef(b, true, false); });
REGISTER_OP("FusedBatchNormGradV3").Apply([](OpDefBuilder& b) { FusedBatchNormGradDef(b, true, true); });

REGISTER_OP("LRN")
    .SetGradient([](GradientContext* g) {
      g->SetInputGrad(0, g->Op("LRNGrad", {g->grad(0), g->input(0), g->output(0)},
                               g->CopyAttrs({"depth_radius", "bias", "alpha", "beta"})));
      return absl::OkStatus();
    })
    .Input("input: T")
    .Output("output: T")
    .Apply(LrnAttrs)
    .SetShapeFn([](InferenceContext* c) {
      RETURN_IF_ERROR(c->WithRank(0, 4));
      return shape_fn::Unchanged(c);
    })
    .Doc(
        "Local response normalization over the last dim: input / (bias + alpha * sum of "
        "squares of the 2 * depth_radius + 1 channels around) ** beta.");

REGISTER_OP("LRNGrad")
    .Input("input_grads: T")
    .Input("input_image: T")
    .Input("output_image: T")
    .Output("output: T")
    .Apply(LrnAttrs)
    .SetShapeFn([](InferenceContext* c) {
      for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(c->WithRank(i, 4));
      c->set_output(0, c->input(1));
      return absl::OkStatus();
    })
    .Doc("The gradient of LRN for its input.");

}  // namespace runnel
