// Sliding-window neural-network ops: 2-D convolutions (plain and depthwise), pooling, and
// their backprops, with TensorFlow's names, attributes and gradients.
#include "absl/strings/str_cat.h"
#include "core/gradients.h"
#include "core/op_registry.h"
#include "core/window.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

constexpr char kConvTypes[] = "T: {half, bfloat16, float, double}";

// Output shape of a window op on a rank-4 input: batch kept, spatial dims from the
// geometry when known, channels `channels` (-1: unknown).
absl::Status WindowOutputShape(InferenceContext* c, const Window2D& w, const PartialShape& in,
                               int64_t window_h, int64_t window_w, int64_t channels) {
  PartialShape out = PartialShape::UnknownWithRank(4);
  if (!in.unknown_rank()) out.set_dim(0, in.dim(0));
  out.set_dim(w.channel_axis(), channels);
  if (!in.unknown_rank()) {
    const int64_t h = in.dim(w.height_axis()), wd = in.dim(w.width_axis());
    if (h >= 0 && window_h >= 0) {
      ASSIGN_OR_RETURN(WindowDim d, w.Height(h, window_h));
      out.set_dim(w.height_axis(), d.output);
    }
    if (wd >= 0 && window_w >= 0) {
      ASSIGN_OR_RETURN(WindowDim d, w.Width(wd, window_w));
      out.set_dim(w.width_axis(), d.output);
    }
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

// Conv2D and DepthwiseConv2dNative: input [N,H,W,C] (or NCHW), filter [KH,KW,C,M]; the
// output has M channels (C*M for depthwise).
absl::Status ConvShape(InferenceContext* c, bool depthwise) {
  RETURN_IF_ERROR(c->WithRank(0, 4));
  RETURN_IF_ERROR(c->WithRank(1, 4));
  ASSIGN_OR_RETURN(Window2D w, Window2D::FromAttrs(c->attrs()));
  const PartialShape& in = c->input(0);
  const PartialShape& filter = c->input(1);
  const bool known = !filter.unknown_rank();
  const int64_t in_c = in.unknown_rank() ? -1 : in.dim(w.channel_axis());
  const int64_t filter_c = known ? filter.dim(2) : -1;
  if (in_c >= 0 && filter_c >= 0 && in_c != filter_c) {
    return c->InvalidArgument("input has ", in_c, " channels (", w.nchw ? "NCHW" : "NHWC",
                              " shape ", in.DebugString(), ") but the filter ",
                              filter.DebugString(), " expects ", filter_c);
  }
  int64_t out_c = known ? filter.dim(3) : -1;
  if (depthwise) out_c = known && filter.dim(2) >= 0 && out_c >= 0 ? filter.dim(2) * out_c : -1;
  return WindowOutputShape(c, w, in, known ? filter.dim(0) : -1, known ? filter.dim(1) : -1,
                           out_c);
}

absl::Status PoolShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 4));
  ASSIGN_OR_RETURN(Window2D w, Window2D::FromAttrs(c->attrs()));
  if (c->num_inputs() == 3) {  // MaxPoolV2: ksize and strides are inputs
    std::vector<int64_t> ksize, strides;
    if (!ConstantVector(*c, 1, &ksize) || !ConstantVector(*c, 2, &strides)) {
      const PartialShape& in = c->input(0);
      PartialShape out = PartialShape::UnknownWithRank(4);
      if (!in.unknown_rank()) {
        out.set_dim(0, in.dim(0));
        out.set_dim(w.channel_axis(), in.dim(w.channel_axis()));
      }
      c->set_output(0, out);
      return absl::OkStatus();
    }
    RETURN_IF_ERROR(w.SetPoolingWindow(ksize, strides));
  }
  const PartialShape& in = c->input(0);
  return WindowOutputShape(c, w, in, w.window_h, w.window_w,
                           in.unknown_rank() ? -1 : in.dim(w.channel_axis()));
}

// BackpropInput(input_sizes, filter, dy) and BackpropFilter(input, filter_sizes, dy): the
// output's shape is held in the sizes input.
absl::Status BackpropInputShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(1, 4));
  RETURN_IF_ERROR(c->WithRank(2, 4));
  c->set_output(0, c->ShapeFromShapeTensor(0));
  return absl::OkStatus();
}

absl::Status BackpropFilterShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 4));
  RETURN_IF_ERROR(c->WithRank(2, 4));
  c->set_output(0, c->ShapeFromShapeTensor(1));
  return absl::OkStatus();
}

// MaxPoolGrad(V2): the gradient has the original input's shape.
absl::Status MaxPoolGradShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 4));
  return shape_fn::Unchanged(c);
}

// The attributes a convolution's backprops share with it.
std::map<std::string, AttrValue> ConvAttrs(const GradientContext& g) {
  return g.CopyAttrs({"strides", "padding", "explicit_paddings", "data_format", "dilations",
                       "use_cudnn_on_gpu"});
}

// Conv2D, DepthwiseConv2dNative: d input and d filter are the op's two backprops.
absl::Status ConvGrad(GradientContext* g, const std::string& op) {
  Output x = g->input(0), filter = g->input(1), dy = g->grad(0);
  auto attrs = ConvAttrs(*g);
  g->SetInputGrad(0, g->Op(op + "BackpropInput", {g->Shape(x), filter, dy}, attrs));
  g->SetInputGrad(1, g->Op(op + "BackpropFilter", {x, g->Shape(filter), dy}, attrs));
  return absl::OkStatus();
}

// BackpropInput(sizes, filter, dy) is linear in filter and dy.
absl::Status ConvBackpropInputGrad(GradientContext* g, const std::string& op) {
  Output filter = g->input(1), dy = g->input(2), grad = g->grad(0);
  auto attrs = ConvAttrs(*g);
  g->SetInputGrad(1, g->Op(op + "BackpropFilter", {grad, g->Shape(filter), dy}, attrs));
  g->SetInputGrad(2, g->Op(op, {grad, filter}, attrs));
  return absl::OkStatus();
}

// BackpropFilter(x, sizes, dy) is linear in x and dy.
absl::Status ConvBackpropFilterGrad(GradientContext* g, const std::string& op) {
  Output x = g->input(0), dy = g->input(2), grad = g->grad(0);
  auto attrs = ConvAttrs(*g);
  g->SetInputGrad(0, g->Op(op + "BackpropInput", {g->Shape(x), grad, dy}, attrs));
  g->SetInputGrad(2, g->Op(op, {x, grad}, attrs));
  return absl::OkStatus();
}

std::function<void(OpDefBuilder&)> ConvAttrDefs(bool explicit_padding = true) {
  return [explicit_padding](OpDefBuilder& b) {
    b.Attr(kConvTypes)
        .Attr("strides: list(int)")
        .Attr("use_cudnn_on_gpu: bool = true")
        .Attr(explicit_padding ? "padding: {'SAME', 'VALID', 'EXPLICIT'}"
                               : "padding: {'SAME', 'VALID'}")
        .Attr("explicit_paddings: list(int) = []")
        .Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'")
        .Attr("dilations: list(int) = [1, 1, 1, 1]");
  };
}

absl::Status MaxPoolGradient(GradientContext* g) {
  auto attrs = g->CopyAttrs({"ksize", "strides", "padding", "explicit_paddings", "data_format"});
  std::vector<Output> inputs = {g->input(0), g->output(0), g->grad(0)};
  const bool v2 = g->num_inputs() == 3;
  if (v2) {
    inputs.push_back(g->input(1));
    inputs.push_back(g->input(2));
  }
  g->SetInputGrad(0, g->Op(v2 ? "MaxPoolGradV2" : "MaxPoolGrad", inputs, attrs));
  return absl::OkStatus();
}

absl::Status AvgPoolGradient(GradientContext* g) {
  auto attrs = g->CopyAttrs({"ksize", "strides", "padding", "data_format"});
  g->SetInputGrad(0, g->Op("AvgPoolGrad", {g->Shape(g->input(0)), g->grad(0)}, attrs));
  return absl::OkStatus();
}

// AvgPoolGrad spreads each gradient evenly over its window: linear, and its adjoint is the
// average pool itself.
absl::Status AvgPoolGradGradient(GradientContext* g) {
  auto attrs = g->CopyAttrs({"ksize", "strides", "padding", "data_format"});
  g->SetInputGrad(1, g->Op("AvgPool", {g->grad(0)}, attrs));
  return absl::OkStatus();
}

std::function<void(OpDefBuilder&)> PoolAttrDefs(bool v2, bool explicit_padding) {
  return [v2, explicit_padding](OpDefBuilder& b) {
    if (!v2) b.Attr("ksize: list(int) >= 4").Attr("strides: list(int) >= 4");
    b.Attr(explicit_padding ? "padding: {'SAME', 'VALID', 'EXPLICIT'}"
                            : "padding: {'SAME', 'VALID'}");
    if (explicit_padding) b.Attr("explicit_paddings: list(int) = []");
    b.Attr("data_format: {'NHWC', 'NCHW'} = 'NHWC'");
  };
}

}  // namespace

REGISTER_OP("Conv2D")
    .SetGradient([](GradientContext* g) { return ConvGrad(g, "Conv2D"); })
    .Input("input: T")
    .Input("filter: T")
    .Output("output: T")
    .Apply(ConvAttrDefs())
    .SetShapeFn([](InferenceContext* c) { return ConvShape(c, false); })
    .Doc(
        "2-D convolution (cross-correlation, as in TensorFlow) of input [N,H,W,C] (or NCHW) "
        "with filter [KH,KW,C,M], giving M channels.");

// Conv2D and DepthwiseConv2dNative fused with a bias and an activation (FusedOpArgs).
REGISTER_OP("_FusedConv2D")
    .Input("input: T")
    .Input("filter: T")
    .Apply(FusedOpArgs())
    .Output("output: T")
    .Apply(ConvAttrDefs())
    .SetShapeFn([](InferenceContext* c) { return ConvShape(c, false); })
    .Doc("Conv2D followed by the ops in `fused_ops` (BiasAdd, then Relu or Relu6).");

REGISTER_OP("_FusedDepthwiseConv2dNative")
    .Input("input: T")
    .Input("filter: T")
    .Apply(FusedOpArgs())
    .Output("output: T")
    .Apply(ConvAttrDefs())
    .SetShapeFn([](InferenceContext* c) { return ConvShape(c, true); })
    .Doc("DepthwiseConv2dNative followed by the ops in `fused_ops` (BiasAdd, then Relu or "
         "Relu6).");

REGISTER_OP("Conv2DBackpropInput")
    .SetGradient([](GradientContext* g) { return ConvBackpropInputGrad(g, "Conv2D"); })
    .Input("input_sizes: int32")
    .Input("filter: T")
    .Input("out_backprop: T")
    .Output("output: T")
    .Apply(ConvAttrDefs())
    .SetShapeFn(BackpropInputShape)
    .Doc("The gradient of Conv2D for its input (also the transposed convolution).");

REGISTER_OP("Conv2DBackpropFilter")
    .SetGradient([](GradientContext* g) { return ConvBackpropFilterGrad(g, "Conv2D"); })
    .Input("input: T")
    .Input("filter_sizes: int32")
    .Input("out_backprop: T")
    .Output("output: T")
    .Apply(ConvAttrDefs())
    .SetShapeFn(BackpropFilterShape)
    .Doc("The gradient of Conv2D for its filter.");

REGISTER_OP("DepthwiseConv2dNative")
    .SetGradient([](GradientContext* g) { return ConvGrad(g, "DepthwiseConv2dNative"); })
    .Input("input: T")
    .Input("filter: T")
    .Output("output: T")
    .Apply(ConvAttrDefs())
    .SetShapeFn([](InferenceContext* c) { return ConvShape(c, true); })
    .Doc(
        "Depthwise 2-D convolution: filter [KH,KW,C,M] convolves each input channel on its "
        "own into M channels; output channel c*M+m.");

REGISTER_OP("DepthwiseConv2dNativeBackpropInput")
    .SetGradient(
        [](GradientContext* g) { return ConvBackpropInputGrad(g, "DepthwiseConv2dNative"); })
    .Input("input_sizes: int32")
    .Input("filter: T")
    .Input("out_backprop: T")
    .Output("output: T")
    .Apply(ConvAttrDefs())
    .SetShapeFn(BackpropInputShape)
    .Doc("The gradient of DepthwiseConv2dNative for its input.");

REGISTER_OP("DepthwiseConv2dNativeBackpropFilter")
    .SetGradient(
        [](GradientContext* g) { return ConvBackpropFilterGrad(g, "DepthwiseConv2dNative"); })
    .Input("input: T")
    .Input("filter_sizes: int32")
    .Input("out_backprop: T")
    .Output("output: T")
    .Apply(ConvAttrDefs())
    .SetShapeFn(BackpropFilterShape)
    .Doc("The gradient of DepthwiseConv2dNative for its filter.");

REGISTER_OP("MaxPool")
    .SetGradient(MaxPoolGradient)
    .Input("input: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64} = DT_FLOAT")
    .Apply(PoolAttrDefs(false, true))
    .SetShapeFn(PoolShape)
    .Doc("The maximum over each window; padding never wins.");

REGISTER_OP("MaxPoolV2")
    .SetGradient(MaxPoolGradient)
    .Input("input: T")
    .Input("ksize: int32")
    .Input("strides: int32")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64} = DT_FLOAT")
    .Apply(PoolAttrDefs(true, false))
    .SetShapeFn(PoolShape)
    .Doc("MaxPool with ksize and strides given as tensors.");

REGISTER_OP("AvgPool")
    .SetGradient(AvgPoolGradient)
    .Input("value: T")
    .Output("output: T")
    .Attr("T: {float, double}")
    .Apply(PoolAttrDefs(false, false))
    .SetShapeFn(PoolShape)
    .Doc("The mean over each window, counting only the positions inside the input.");

REGISTER_OP("MaxPoolGrad")
    .Input("orig_input: T")
    .Input("orig_output: T")
    .Input("grad: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64} = DT_FLOAT")
    .Apply(PoolAttrDefs(false, true))
    .SetShapeFn(MaxPoolGradShape)
    .Doc(
        "The gradient of MaxPool: each window's gradient goes to the first position holding "
        "its maximum.");

REGISTER_OP("MaxPoolGradV2")
    .Input("orig_input: T")
    .Input("orig_output: T")
    .Input("grad: T")
    .Input("ksize: int32")
    .Input("strides: int32")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64} = DT_FLOAT")
    .Apply(PoolAttrDefs(true, false))
    .SetShapeFn(MaxPoolGradShape)
    .Doc("MaxPoolGrad with ksize and strides given as tensors.");

REGISTER_OP("AvgPoolGrad")
    .SetGradient(AvgPoolGradGradient)
    .Input("orig_input_shape: int32")
    .Input("grad: T")
    .Output("output: T")
    .Attr("T: {float, double}")
    .Apply(PoolAttrDefs(false, false))
    .SetShapeFn([](InferenceContext* c) {
      RETURN_IF_ERROR(c->WithRank(1, 4));
      c->set_output(0, c->ShapeFromShapeTensor(0));
      return absl::OkStatus();
    })
    .Doc("The gradient of AvgPool: each window's gradient spread evenly over it.");

}  // namespace runnel
