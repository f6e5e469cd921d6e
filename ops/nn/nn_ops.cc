// Neural-network ops: bias add, activations, softmax.
#include "core/gradients.h"
#include "core/op_registry.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

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

// --- gradients ------------------------------------------------------------------------

absl::Status BiasAddGrad(GradientContext* g) {
  std::string format = "NHWC";
  if (g->attrs().Has("data_format")) RETURN_IF_ERROR(g->attrs().Get("data_format", &format));
  g->SetInputGrad(0, g->grad(0));
  g->SetInputGrad(1, g->Op("BiasAddGrad", {g->grad(0)}, {{"data_format", MakeAttr(format)}}));
  return absl::OkStatus();
}

// BiasAddGrad sums over all but the channel dim; its gradient broadcasts back.
absl::Status BiasAddGradGrad(GradientContext* g) {
  std::string format;
  RETURN_IF_ERROR(g->attrs().Get("data_format", &format));
  Output dy = g->input(0);
  g->SetInputGrad(
      0, g->Op("BiasAdd", {g->ZerosLike(dy), g->grad(0)}, {{"data_format", MakeAttr(format)}}));
  return absl::OkStatus();
}

// From the output, as TensorFlow (y > 0 exactly where x > 0): the pre-activation then has
// Relu as its only reader, so the passes fuse it into the bias add and the convolution or
// MatMul before it in training graphs too, and it is freed early.
absl::Status ReluGradient(GradientContext* g) {
  g->SetInputGrad(0, g->Op("ReluGrad", {g->grad(0), g->output(0)}));
  return absl::OkStatus();
}

// ReluGrad(dy, x) = dy where x > 0: linear in dy, piecewise constant in x.
absl::Status ReluGradGradient(GradientContext* g) {
  g->SetInputGrad(0, g->Op("ReluGrad", {g->grad(0), g->input(1)}));
  g->SetInputGrad(1, g->ZerosLike(g->input(1)));
  return absl::OkStatus();
}

// The activations whose gradient is an op of its own (as in TensorFlow): dx = Op(dy, v),
// v the forward input (or output, for Elu and Selu).
GradientFn ActivationGrad(const char* grad_op, bool from_output) {
  return [grad_op, from_output](GradientContext* g) {
    g->SetInputGrad(0, g->Op(grad_op, {g->grad(0), from_output ? g->output(0) : g->input(0)},
                             g->CopyAttrs({"alpha"})));
    return absl::OkStatus();
  };
}

// Relu6Grad, LeakyReluGrad: linear in dy with a mask that is piecewise constant in x.
absl::Status MaskGradGradient(GradientContext* g) {
  g->SetInputGrad(
      0, g->Op(g->node().type_string(), {g->grad(0), g->input(1)}, g->CopyAttrs({"alpha"})));
  g->SetInputGrad(1, g->ZerosLike(g->input(1)));
  return absl::OkStatus();
}

// EluGrad(dy, y) = dy * (y + 1) where y < 0, dy elsewhere; SeluGrad(dy, y) = dy * (y +
// scale * alpha) where y < 0, dy * scale elsewhere. Both are linear in dy, and in y their
// slope is dy where y < 0.
absl::Status OutputGradGradient(GradientContext* g) {
  Output dy = g->input(0), y = g->input(1), grad = g->grad(0);
  g->SetInputGrad(0, g->Op(g->node().type_string(), {grad, y}));
  Output negative = g->Cast(g->Op("Less", {y, g->Scalar(0, y.dtype())}), y.dtype());
  g->SetInputGrad(1, g->Mul(g->Mul(grad, dy), negative));
  return absl::OkStatus();
}

// SoftplusGrad(dy, x) = dy * sigmoid(x).
absl::Status SoftplusGradGradient(GradientContext* g) {
  Output dy = g->input(0), x = g->input(1), grad = g->grad(0);
  g->SetInputGrad(0, g->Op("SoftplusGrad", {grad, x}));
  Output s = g->Op("Sigmoid", {x});
  Output slope = g->Mul(s, g->Sub(g->Scalar(1, x.dtype()), s));
  g->SetInputGrad(1, g->Mul(g->Mul(grad, dy), slope));
  return absl::OkStatus();
}

std::function<void(OpDefBuilder&)> ActivationGradDef(const char* value) {
  return [value](OpDefBuilder& b) {
    b.Input("gradients: T")
        .Input(absl::StrCat(value, ": T"))
        .Output("backprops: T")
        .Attr(absl::StrCat("T: ", kFloatTypes))
        .SetShapeFn(shape_fn::Unchanged);
  };
}

absl::Status SoftsignGrad(GradientContext* g) {  // 1 / (1 + |x|)^2
  Output x = g->input(0);
  Output d = g->Add(g->Scalar(1, x.dtype()), g->Op("Abs", {x}));
  g->SetInputGrad(0, g->Div(g->grad(0), g->Mul(d, d)));
  return absl::OkStatus();
}

Output SumLastAxis(GradientContext* g, Output x) {
  return g->Sum(x, g->Const(Tensor::Scalar<int32_t>(-1)), /*keep_dims=*/true);
}

absl::Status SoftmaxGrad(GradientContext* g) {  // (dy - sum(dy * y)) * y
  Output y = g->output(0), dy = g->grad(0);
  g->SetInputGrad(0, g->Mul(g->Sub(dy, SumLastAxis(g, g->Mul(dy, y))), y));
  return absl::OkStatus();
}

absl::Status LogSoftmaxGrad(GradientContext* g) {  // dy - exp(y) * sum(dy)
  Output y = g->output(0), dy = g->grad(0);
  g->SetInputGrad(0, g->Sub(dy, g->Mul(g->Op("Exp", {y}), SumLastAxis(g, dy))));
  return absl::OkStatus();
}

absl::Status SoftmaxCrossEntropyGrad(GradientContext* g, bool sparse) {
  // d loss / d logits is the second output (softmax - labels), scaled per row.
  Output dloss = g->Op("ExpandDims", {g->grad(0), g->Const(Tensor::Scalar<int32_t>(-1))});
  g->SetInputGrad(0, g->Mul(dloss, g->output(1)));
  if (!sparse) {  // d loss / d labels = -log_softmax(logits)
    g->SetInputGrad(1, g->Mul(dloss, g->Neg(g->Op("LogSoftmax", {g->input(0)}))));
  }
  return absl::OkStatus();
}

absl::Status L2LossGrad(GradientContext* g) {
  g->SetInputGrad(0, g->Mul(g->input(0), g->grad(0)));
  return absl::OkStatus();
}

absl::Status CrossEntropyShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 2));
  const PartialShape& logits = c->input(0);
  int64_t batch = logits.rank() == 2 ? logits.dim(0) : -1;
  c->set_output(0, PartialShape{batch});
  c->set_output(1, logits.rank() == 2 ? logits : PartialShape::UnknownWithRank(2));
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("BiasAdd")
    .SetGradient(BiasAddGrad)
    .Input("value: T")
    .Input("bias: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64}")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .SetShapeFn(BiasAddShape)
    .Doc("Adds the 1-D bias to the channel dim of value.");

REGISTER_OP("BiasAddV1")
    .SetGradient(BiasAddGrad)
    .Input("value: T")
    .Input("bias: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64}")
    .SetShapeFn(BiasAddShape)
    .Doc("Adds the 1-D bias to the last dim of value.");

REGISTER_OP("Relu")
    .Endpoints({"nn.relu"})
    .SetGradient(ReluGradient)
    .Input("features: T")
    .Output("activations: T")
    .Attr("T: {float, double, int32, int64}")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("max(features, 0), elementwise.");
REGISTER_OP("Relu6")
    .Endpoints({"nn.relu6"})
    .SetGradient(ActivationGrad("Relu6Grad", false))
    .Apply(Activation("features", "activations"))
    .Doc("min(max(features, 0), 6), elementwise.");
REGISTER_OP("Elu")
    .Endpoints({"nn.elu"})
    .SetGradient(ActivationGrad("EluGrad", true))
    .Apply(Activation("features", "activations"))
    .Doc("features if > 0, else exp(features) - 1.");
REGISTER_OP("Selu")
    .Endpoints({"nn.selu"})
    .SetGradient(ActivationGrad("SeluGrad", true))
    .Apply(Activation("features", "activations"))
    .Doc(
        "scale * (features if > 0, else alpha * (exp(features) - 1)), with "
        "alpha = 1.6732632423543772 and scale = 1.0507009873554805.");
REGISTER_OP("LeakyRelu")
    .SetGradient(ActivationGrad("LeakyReluGrad", false))
    .Apply(Activation("features", "activations"))
    .Attr("alpha: float = 0.2")
    .Doc("features if > 0, else alpha * features.");
REGISTER_OP("Softplus")
    .Endpoints({"nn.softplus", "math.softplus"})
    .SetGradient(ActivationGrad("SoftplusGrad", false))
    .Apply(Activation("features", "activations"))
    .Doc("log(exp(features) + 1), computed without overflow.");
REGISTER_OP("Softsign")
    .Endpoints({"nn.softsign", "math.softsign"})
    .SetGradient(SoftsignGrad)
    .Apply(Activation("features", "activations"))
    .Doc("features / (|features| + 1).");

REGISTER_OP("Softmax")
    .SetGradient(SoftmaxGrad)
    .Input("logits: T")
    .Output("softmax: T")
    .Attr(absl::StrCat("T: ", kFloatTypes))
    .SetShapeFn(RankAtLeastOne)
    .Doc("exp(logits) / sum(exp(logits)) over the last dim.");
REGISTER_OP("LogSoftmax")
    .SetGradient(LogSoftmaxGrad)
    .Input("logits: T")
    .Output("logsoftmax: T")
    .Attr(absl::StrCat("T: ", kFloatTypes))
    .SetShapeFn(RankAtLeastOne)
    .Doc("logits - log(sum(exp(logits))) over the last dim.");

REGISTER_OP("BiasAddGrad")
    .SetGradient(BiasAddGradGrad)
    .Input("out_backprop: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64}")
    .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
    .SetShapeFn([](InferenceContext* c) {
      std::string format;
      RETURN_IF_ERROR(c->GetAttr("data_format", &format));
      const PartialShape& x = c->input(0);
      if (x.rank() >= 2)
        c->set_output(0, PartialShape{x.dim(format == "NCHW" ? 1 : x.rank() - 1)});
      else
        c->set_output(0, PartialShape::UnknownWithRank(1));
      return absl::OkStatus();
    })
    .Doc("The gradient of BiasAdd for its bias: out_backprop summed over all but the channel dim.");

REGISTER_OP("SoftmaxCrossEntropyWithLogits")
    .SetGradient([](GradientContext* g) { return SoftmaxCrossEntropyGrad(g, false); })
    .Input("features: T")
    .Input("labels: T")
    .Output("loss: T")
    .Output("backprop: T")
    .Attr("T: {float, double}")
    .SetShapeFn(CrossEntropyShape)
    .Doc(
        "Per-row -sum(labels * log_softmax(features)), stable for large logits, and its "
        "gradient softmax(features) - labels.");

REGISTER_OP("SparseSoftmaxCrossEntropyWithLogits")
    .SetGradient([](GradientContext* g) { return SoftmaxCrossEntropyGrad(g, true); })
    .Input("features: T")
    .Input("labels: Tlabels")
    .Output("loss: T")
    .Output("backprop: T")
    .Attr("T: {float, double}")
    .Attr("Tlabels: {int32, int64} = DT_INT64")
    .SetShapeFn(CrossEntropyShape)
    .Doc("Per-row -log_softmax(features)[label], and its gradient softmax - one_hot(label).");

REGISTER_OP("L2Loss")
    .SetGradient(L2LossGrad)
    .Input("t: T")
    .Output("output: T")
    .Attr("T: {float, double}")
    .SetShapeFn(shape_fn::Scalar)
    .Doc("sum(t ** 2) / 2.");

REGISTER_OP("ReluGrad")
    .SetGradient(ReluGradGradient)
    .Input("gradients: T")
    .Input("features: T")
    .Output("backprops: T")
    .Attr("T: {float, double, int32, int64}")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("The gradient of Relu: gradients where features > 0, else 0.");

REGISTER_OP("Relu6Grad")
    .SetGradient(MaskGradGradient)
    .Apply(ActivationGradDef("features"))
    .Doc("The gradient of Relu6: gradients where 0 < features < 6, else 0.");
REGISTER_OP("LeakyReluGrad")
    .SetGradient(MaskGradGradient)
    .Apply(ActivationGradDef("features"))
    .Attr("alpha: float = 0.2")
    .Doc("The gradient of LeakyRelu: gradients where features > 0, else alpha * gradients.");
REGISTER_OP("EluGrad")
    .SetGradient(OutputGradGradient)
    .Apply(ActivationGradDef("outputs"))
    .Doc("The gradient of Elu from its outputs: gradients * (outputs + 1) where outputs < 0.");
REGISTER_OP("SeluGrad")
    .SetGradient(OutputGradGradient)
    .Apply(ActivationGradDef("outputs"))
    .Doc(
        "The gradient of Selu from its outputs: gradients * (outputs + scale * alpha) where "
        "outputs < 0, else gradients * scale.");
REGISTER_OP("SoftplusGrad")
    .SetGradient(SoftplusGradGradient)
    .Apply(ActivationGradDef("features"))
    .Doc("The gradient of Softplus: gradients * sigmoid(features).");

}  // namespace runnel
