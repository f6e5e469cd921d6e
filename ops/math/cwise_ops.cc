// Elementwise math: arithmetic and comparisons with numpy broadcasting, unary functions,
// AddN and Cast (kernels in kernels/math/cwise_*_ops.cc, add_n_op.cc, cast_op.cc).
#include "core/gradients.h"
#include "core/op_registry.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

std::function<void(OpDefBuilder&)> BinaryCwise(const char* types) {
  return [types](OpDefBuilder& b) {
    b.Input("x: T")
        .Input("y: T")
        .Output("z: T")
        .Attr(absl::StrCat("T: ", types))
        .SetShapeFn(shape_fn::BroadcastBinary);
  };
}

std::function<void(OpDefBuilder&)> Comparison(const char* types) {
  return [types](OpDefBuilder& b) {
    b.Input("x: T")
        .Input("y: T")
        .Output("z: bool")
        .Attr(absl::StrCat("T: ", types))
        .SetShapeFn(shape_fn::BroadcastBinary);
  };
}

std::function<void(OpDefBuilder&)> UnaryCwise(const char* types) {
  return [types](OpDefBuilder& b) {
    b.Input("x: T").Output("y: T").Attr(absl::StrCat("T: ", types)).SetShapeFn(shape_fn::Unchanged);
  };
}

absl::Status AddNShape(InferenceContext* c) {
  PartialShape out = PartialShape::UnknownRank();
  for (int i = 0; i < c->num_inputs(); ++i) {
    auto merged = out.Merge(c->input(i));
    if (!merged.ok()) {
      return c->InvalidArgument("AddN inputs must have the same shape, got ", out.DebugString(),
                                " and ", c->input(i).DebugString());
    }
    out = *merged;
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

// --- gradients ------------------------------------------------------------------------

absl::Status AddGrad(GradientContext* g) {
  g->SetBroadcastGrads(g->grad(0), g->grad(0));
  return absl::OkStatus();
}

absl::Status SubGrad(GradientContext* g) {
  g->SetBroadcastGrads(g->grad(0), g->Neg(g->grad(0)));
  return absl::OkStatus();
}

absl::Status MulGrad(GradientContext* g) {
  g->SetBroadcastGrads(g->Mul(g->grad(0), g->input(1)), g->Mul(g->grad(0), g->input(0)));
  return absl::OkStatus();
}

absl::Status DivGrad(GradientContext* g) {  // d(x/y) = dx/y - x dy/y^2
  Output x = g->input(0), y = g->input(1), dz = g->grad(0);
  g->SetBroadcastGrads(g->Div(dz, y), g->Neg(g->Div(g->Mul(dz, x), g->Mul(y, y))));
  return absl::OkStatus();
}

absl::Status FloorModGrad(GradientContext* g) {  // x mod y = x - floor(x/y) y
  Output x = g->input(0), y = g->input(1), dz = g->grad(0);
  g->SetBroadcastGrads(dz, g->Neg(g->Mul(dz, g->Op("Floor", {g->Div(x, y)}))));
  return absl::OkStatus();
}

absl::Status PowGrad(GradientContext* g) {  // d(x^y) = y x^(y-1) dx + x^y ln(x) dy
  Output x = g->input(0), y = g->input(1), z = g->output(0), dz = g->grad(0);
  DataType t = x.dtype();
  Output dx = g->Mul(dz, g->Mul(y, g->Op("Pow", {x, g->Sub(y, g->Scalar(1, t))})));
  Output positive = g->Op("Greater", {x, g->Scalar(0, t)});
  Output log_x = g->Op("SelectV2", {positive, g->Op("Log", {x}), g->ZerosLike(x)});
  g->SetBroadcastGrads(dx, g->Mul(dz, g->Mul(z, log_x)));
  return absl::OkStatus();
}

// Maximum/Minimum: the gradient goes to whichever input was chosen (x on ties).
absl::Status SelectedGrad(GradientContext* g, const char* comparison) {
  Output x = g->input(0), y = g->input(1), dz = g->grad(0);
  Output dx = g->Mul(dz, g->Cast(g->Op(comparison, {x, y}), x.dtype()));
  g->SetBroadcastGrads(dx, g->Sub(dz, dx));
  return absl::OkStatus();
}

absl::Status SquaredDifferenceGrad(GradientContext* g) {
  Output x = g->input(0), y = g->input(1);
  Output dx = g->Mul(g->grad(0), g->Mul(g->Scalar(2, x.dtype()), g->Sub(x, y)));
  g->SetBroadcastGrads(dx, g->Neg(dx));
  return absl::OkStatus();
}

// Elementwise f(x): dx = dy * f'(x), with f' built from x and y = f(x).
absl::Status UnaryGrad(GradientContext* g,
                       const std::function<Output(GradientContext*, Output, Output)>& df) {
  g->SetInputGrad(0, g->Mul(g->grad(0), df(g, g->input(0), g->output(0))));
  return absl::OkStatus();
}

GradientFn Unary(std::function<Output(GradientContext*, Output, Output)> df) {
  return [df = std::move(df)](GradientContext* g) { return UnaryGrad(g, df); };
}

Output One(GradientContext* g, Output like) { return g->Scalar(1, like.dtype()); }

absl::Status NegGrad(GradientContext* g) {
  g->SetInputGrad(0, g->Neg(g->grad(0)));
  return absl::OkStatus();
}

absl::Status AddNGrad(GradientContext* g) {
  for (int i = 0; i < g->num_inputs(); ++i) g->SetInputGrad(i, g->grad(0));
  return absl::OkStatus();
}

absl::Status CastGrad(GradientContext* g) {
  DataType src;
  RETURN_IF_ERROR(g->attrs().Get("SrcT", &src));
  if (IsFloatingType(src) && IsFloatingType(g->output(0).dtype())) {
    g->SetInputGrad(0, g->Cast(g->grad(0), src));
  }
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("Add")
    .SetGradient(AddGrad)
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("x + y, elementwise, with broadcasting.");

REGISTER_OP("AddV2")
    .Endpoints({"math.add", "add"})
    .SetGradient(AddGrad)
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("x + y, elementwise, with broadcasting.");

REGISTER_OP("Sub")
    .Endpoints({"math.subtract", "subtract"})
    .SetGradient(SubGrad)
    .Apply(BinaryCwise(kRealTypes))
    .Doc("x - y, elementwise, with broadcasting.");

REGISTER_OP("Mul")
    .Endpoints({"math.multiply", "multiply"})
    .SetGradient(MulGrad)
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("x * y, elementwise, with broadcasting.");

REGISTER_OP("RealDiv")
    .Endpoints({"realdiv"})
    .SetGradient(DivGrad)
    .Apply(BinaryCwise(kRealTypes))
    .Doc("x / y, elementwise (integer division truncates toward zero).");

REGISTER_OP("Div")
    .Endpoints({"div"})
    .SetGradient(DivGrad)
    .Apply(BinaryCwise(kRealTypes))
    .Doc("x / y, elementwise; integers floor as Python 2 did.");

REGISTER_OP("FloorDiv")
    .Endpoints({"math.floordiv", "floordiv"})
    .SetNoGradient()
    .Apply(BinaryCwise(kRealTypes))
    .Doc("floor(x / y), elementwise.");

REGISTER_OP("FloorMod")
    .Endpoints({"math.floormod", "floormod", "math.mod", "mod"})
    .SetGradient(FloorModGrad)
    .Apply(BinaryCwise(kRealTypes))
    .Doc("x - floor(x / y) * y, elementwise: the remainder has the sign of y.");

REGISTER_OP("Pow")
    .Endpoints({"math.pow", "pow"})
    .SetGradient(PowGrad)
    .Apply(BinaryCwise(kSignedTypes))
    .Doc("x ** y, elementwise.");

REGISTER_OP("Maximum")
    .Endpoints({"math.maximum", "maximum"})
    .SetGradient([](GradientContext* g) { return SelectedGrad(g, "GreaterEqual"); })
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("max(x, y), elementwise.");

REGISTER_OP("Minimum")
    .Endpoints({"math.minimum", "minimum"})
    .SetGradient([](GradientContext* g) { return SelectedGrad(g, "LessEqual"); })
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("min(x, y), elementwise.");

REGISTER_OP("SquaredDifference")
    .Endpoints({"math.squared_difference", "squared_difference"})
    .SetGradient(SquaredDifferenceGrad)
    .Apply(BinaryCwise(kSignedTypes))
    .SetIsCommutative()
    .Doc("(x - y)^2, elementwise.");

REGISTER_OP("Equal")
    .Endpoints({"math.equal", "equal"})
    .Apply(Comparison(kAllTypes))
    .SetIsCommutative()
    .Attr("incompatible_shape_error: bool = true")
    .Doc("x == y, elementwise.");

REGISTER_OP("NotEqual")
    .Endpoints({"math.not_equal", "not_equal"})
    .Apply(Comparison(kAllTypes))
    .SetIsCommutative()
    .Attr("incompatible_shape_error: bool = true")
    .Doc("x != y, elementwise.");

REGISTER_OP("Less")
    .Endpoints({"math.less", "less"})
    .Apply(Comparison(kRealTypes))
    .Doc("x < y, elementwise.");

REGISTER_OP("LessEqual")
    .Endpoints({"math.less_equal", "less_equal"})
    .Apply(Comparison(kRealTypes))
    .Doc("x <= y, elementwise.");

REGISTER_OP("Greater")
    .Endpoints({"math.greater", "greater"})
    .Apply(Comparison(kRealTypes))
    .Doc("x > y, elementwise.");

REGISTER_OP("GreaterEqual")
    .Endpoints({"math.greater_equal", "greater_equal"})
    .Apply(Comparison(kRealTypes))
    .Doc("x >= y, elementwise.");

REGISTER_OP("LogicalAnd")
    .Endpoints({"math.logical_and", "logical_and"})
    .Input("x: bool")
    .Input("y: bool")
    .Output("z: bool")
    .SetIsCommutative()
    .SetShapeFn(shape_fn::BroadcastBinary)
    .Doc("x and y, elementwise.");

REGISTER_OP("LogicalOr")
    .Endpoints({"math.logical_or", "logical_or"})
    .Input("x: bool")
    .Input("y: bool")
    .Output("z: bool")
    .SetIsCommutative()
    .SetShapeFn(shape_fn::BroadcastBinary)
    .Doc("x or y, elementwise.");

REGISTER_OP("LogicalNot")
    .Endpoints({"math.logical_not", "logical_not"})
    .Input("x: bool")
    .Output("y: bool")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("not x, elementwise.");

REGISTER_OP("Neg")
    .Endpoints({"math.negative", "negative"})
    .SetGradient(NegGrad)
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("-x, elementwise.");

REGISTER_OP("Abs")
    .Endpoints({"math.abs", "abs"})
    .SetGradient(Unary([](GradientContext* g, Output x, Output) { return g->Op("Sign", {x}); }))
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("|x|, elementwise.");

REGISTER_OP("Square")
    .Endpoints({"math.square", "square"})
    .SetGradient(Unary([](GradientContext* g, Output x, Output) {
      return g->Mul(g->Scalar(2, x.dtype()), x);
    }))
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("x * x, elementwise.");

REGISTER_OP("Sign")
    .Endpoints({"math.sign", "sign"})
    .SetNoGradient()
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("-1, 0 or 1 by the sign of x.");

REGISTER_OP("Sqrt")
    .Endpoints({"math.sqrt", "sqrt"})
    .SetGradient(Unary([](GradientContext* g, Output, Output y) {
      return g->Div(g->Scalar(0.5, y.dtype()), y);
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("sqrt(x), elementwise.");

REGISTER_OP("Rsqrt")
    .Endpoints({"math.rsqrt", "rsqrt"})
    .SetGradient(Unary([](GradientContext* g, Output, Output y) {
      return g->Mul(g->Scalar(-0.5, y.dtype()), g->Mul(y, g->Mul(y, y)));
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("1 / sqrt(x), elementwise.");

REGISTER_OP("Reciprocal")
    .Endpoints({"math.reciprocal", "reciprocal"})
    .SetGradient(Unary([](GradientContext* g, Output, Output y) { return g->Neg(g->Mul(y, y)); }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("1 / x, elementwise.");

REGISTER_OP("Exp")
    .Endpoints({"math.exp", "exp"})
    .SetGradient(Unary([](GradientContext*, Output, Output y) { return y; }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("e^x, elementwise.");

REGISTER_OP("Expm1")
    .Endpoints({"math.expm1", "expm1"})
    .SetGradient(Unary([](GradientContext* g, Output x, Output y) { return g->Add(y, One(g, y)); }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("exp(x) - 1, elementwise, accurate for small x.");

REGISTER_OP("Log")
    .Endpoints({"math.log", "log"})
    .SetGradient(Unary([](GradientContext* g, Output x, Output) {
      return g->Op("Reciprocal", {x});
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("ln(x), elementwise.");

REGISTER_OP("Log1p")
    .Endpoints({"math.log1p", "log1p"})
    .SetGradient(Unary([](GradientContext* g, Output x, Output) {
      return g->Op("Reciprocal", {g->Add(One(g, x), x)});
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("ln(1 + x), elementwise.");

REGISTER_OP("Floor")
    .Endpoints({"math.floor", "floor"})
    .SetNoGradient()
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("floor(x), elementwise.");

REGISTER_OP("Ceil")
    .Endpoints({"math.ceil", "ceil"})
    .SetNoGradient()
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("ceil(x), elementwise.");

REGISTER_OP("Round")
    .Endpoints({"math.round", "round"})
    .SetNoGradient()
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("x rounded to the nearest integer, halves to even (banker's rounding).");

REGISTER_OP("Sigmoid")
    .Endpoints({"math.sigmoid", "sigmoid", "nn.sigmoid"})
    .SetGradient(Unary([](GradientContext* g, Output, Output y) {
      return g->Mul(y, g->Sub(One(g, y), y));
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("1 / (1 + e^-x), elementwise.");

REGISTER_OP("Tanh")
    .Endpoints({"math.tanh", "tanh", "nn.tanh"})
    .SetGradient(Unary([](GradientContext* g, Output, Output y) {
      return g->Sub(One(g, y), g->Mul(y, y));
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("tanh(x), elementwise.");

REGISTER_OP("AddN")
    .SetGradient(AddNGrad)
    .Input("inputs: N * T")
    .Output("sum: T")
    .Attr("N: int >= 1")
    .Attr(absl::StrCat("T: ", kRealTypes))
    .SetIsCommutative()
    .SetIsAggregate()
    .SetShapeFn(AddNShape)
    .Doc("The sum of N tensors of the same shape.");

REGISTER_OP("Cast")
    .SetGradient(CastGrad)
    .Input("x: SrcT")
    .Output("y: DstT")
    .Attr("SrcT: type")
    .Attr("DstT: type")
    .Attr("Truncate: bool = false")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("Converts `x` to DstT (floats to ints round toward zero).");

}  // namespace runnel
