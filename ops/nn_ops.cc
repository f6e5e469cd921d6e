// Neural-network ops: bias add, activations, softmax.
#include "core/op_registry.h"
#include "ops/shape_util.h"

namespace runnel {
namespace {

constexpr char kFloatTypes[] = "{float, double}";

absl::Status BiasAddShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRankAtLeast(0, 2));
  RETURN_IF_ERROR(c->WithRank(1, 1));
  std::string format = "NHWC";
  if (c->attrs().Has("data_format")) RETURN_IF_ERROR(c->GetAttr("data_format", &format));
  const PartialShape& x = c->input(0);
  const PartialShape& bias = c->input(1);
  if (x.unknown_rank()) {
    c->set_output(0, x);
    return absl::OkStatus();
  }
  int channel = format == "NCHW" ? 1 : x.rank() - 1;
  PartialShape out = x;
  if (bias.rank() == 1) {
    if (x.dim(channel) >= 0 && bias.dim(0) >= 0 && x.dim(channel) != bias.dim(0)) {
      return c->InvalidArgument("bias has ", bias.dim(0), " elements but value has ",
                                x.dim(channel), " channels (", format, " shape ", x.DebugString(),
                                ")");
    }
    if (out.dim(channel) < 0) out.set_dim(channel, bias.dim(0));
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status RankAtLeastOne(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRankAtLeast(0, 1));
  return shape_fn::Unchanged(c);
}

std::function<void(OpDefBuilder&)> Activation(const char* in, const char* out) {
  return [in, out](OpDefBuilder& b) {
    b.Input(absl::StrCat(in, ": T"))
        .Output(absl::StrCat(out, ": T"))
        .Attr(absl::StrCat("T: ", kFloatTypes))
        .SetShapeFn(shape_fn::Unchanged);
  };
}

}  // namespace

REGISTER_OP("BiasAdd")
    .Input("value: T")
    .Input("bias: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64}")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .SetShapeFn(BiasAddShape)
    .Doc("Adds the 1-D bias to the channel dim of value.");

REGISTER_OP("BiasAddV1")
    .Input("value: T")
    .Input("bias: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64}")
    .SetShapeFn(BiasAddShape)
    .Doc("Adds the 1-D bias to the last dim of value.");

REGISTER_OP("Relu")
    .Input("features: T")
    .Output("activations: T")
    .Attr("T: {float, double, int32, int64}")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("max(features, 0), elementwise.");
REGISTER_OP("Relu6")
    .Apply(Activation("features", "activations"))
    .Doc("min(max(features, 0), 6), elementwise.");
REGISTER_OP("Elu")
    .Apply(Activation("features", "activations"))
    .Doc("features if > 0, else exp(features) - 1.");
REGISTER_OP("Selu")
    .Apply(Activation("features", "activations"))
    .Doc(
        "scale * (features if > 0, else alpha * (exp(features) - 1)), with "
        "alpha = 1.6732632423543772 and scale = 1.0507009873554805.");
REGISTER_OP("LeakyRelu")
    .Apply(Activation("features", "activations"))
    .Attr("alpha: float = 0.2")
    .Doc("features if > 0, else alpha * features.");
REGISTER_OP("Softplus")
    .Apply(Activation("features", "activations"))
    .Doc("log(exp(features) + 1), computed without overflow.");
REGISTER_OP("Softsign")
    .Apply(Activation("features", "activations"))
    .Doc("features / (|features| + 1).");

REGISTER_OP("Softmax")
    .Input("logits: T")
    .Output("softmax: T")
    .Attr(absl::StrCat("T: ", kFloatTypes))
    .SetShapeFn(RankAtLeastOne)
    .Doc("exp(logits) / sum(exp(logits)) over the last dim.");
REGISTER_OP("LogSoftmax")
    .Input("logits: T")
    .Output("logsoftmax: T")
    .Attr(absl::StrCat("T: ", kFloatTypes))
    .SetShapeFn(RankAtLeastOne)
    .Doc("logits - log(sum(exp(logits))) over the last dim.");

}  // namespace runnel
