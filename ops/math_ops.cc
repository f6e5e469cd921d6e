// Math ops: elementwise arithmetic and comparisons with numpy broadcasting, reductions,
// matrix products, argmax/argmin, casts' friends and ranges.
#include <algorithm>
#include <map>

#include "core/gradients.h"
#include "core/op_registry.h"
#include "ops/shape_util.h"

namespace runnel {
namespace {

constexpr char kRealTypes[] = "{float, double, int32, int64, uint8, int16, int8}";
constexpr char kSignedTypes[] = "{float, double, int32, int64, int16, int8}";
constexpr char kFloatTypes[] = "{float, double}";
constexpr char kAllTypes[] = "{float, double, int32, int64, uint8, int16, int8, bool}";

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

absl::Status ReductionShape(InferenceContext* c) {
  bool keep_dims;
  RETURN_IF_ERROR(c->GetAttr("keep_dims", &keep_dims));
  const PartialShape& x = c->input(0);
  std::vector<int64_t> axes;
  if (x.unknown_rank()) return absl::OkStatus();
  if (!ConstantVector(*c, 1, &axes)) {
    c->set_output(
        0, keep_dims ? PartialShape::UnknownWithRank(x.rank()) : PartialShape::UnknownRank());
    return absl::OkStatus();
  }
  std::vector<bool> reduce(x.rank(), false);
  for (int64_t a : axes) {
    ASSIGN_OR_RETURN(int axis, CanonicalAxis(a, x.rank()));
    reduce[axis] = true;
  }
  PartialShape out;
  for (int i = 0; i < x.rank(); ++i) {
    if (!reduce[i])
      out.AddDim(x.dim(i));
    else if (keep_dims)
      out.AddDim(1);
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

std::function<void(OpDefBuilder&)> Reduction(const char* types) {
  return [types](OpDefBuilder& b) {
    b.Input("input: T")
        .Input("reduction_indices: Tidx")
        .Output("output: T")
        .Attr("keep_dims: bool = false")
        .Attr(absl::StrCat("T: ", types))
        .Attr("Tidx: {int32, int64} = DT_INT32")
        .SetShapeFn(ReductionShape);
  };
}

absl::Status ArgReductionShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  int64_t axis;
  if (x.unknown_rank()) return absl::OkStatus();
  if (!c->ConstantScalar(1, &axis)) {
    c->set_output(0, PartialShape::UnknownWithRank(std::max(0, x.rank() - 1)));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(int a, CanonicalAxis(axis, x.rank()));
  PartialShape out;
  for (int i = 0; i < x.rank(); ++i) {
    if (i != a) out.AddDim(x.dim(i));
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

std::function<void(OpDefBuilder&)> ArgReduction() {
  return [](OpDefBuilder& b) {
    b.Input("input: T")
        .Input("dimension: Tidx")
        .Output("output: output_type")
        .Attr(absl::StrCat("T: ", kRealTypes))
        .Attr("Tidx: {int32, int64} = DT_INT32")
        .Attr("output_type: {int32, int64} = DT_INT64")
        .SetShapeFn(ArgReductionShape);
  };
}

absl::Status MatMulShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 2));
  RETURN_IF_ERROR(c->WithRank(1, 2));
  bool ta, tb;
  RETURN_IF_ERROR(c->GetAttr("transpose_a", &ta));
  RETURN_IF_ERROR(c->GetAttr("transpose_b", &tb));
  const PartialShape& a = c->input(0);
  const PartialShape& b = c->input(1);
  int64_t m = a.rank() < 0 ? -1 : a.dim(ta ? 1 : 0);
  int64_t ka = a.rank() < 0 ? -1 : a.dim(ta ? 0 : 1);
  int64_t kb = b.rank() < 0 ? -1 : b.dim(tb ? 1 : 0);
  int64_t n = b.rank() < 0 ? -1 : b.dim(tb ? 0 : 1);
  if (ka >= 0 && kb >= 0 && ka != kb) {
    return c->InvalidArgument("MatMul: inner dimensions differ, a is ", a.DebugString(),
                              ta ? " (transposed)" : "", ", b is ", b.DebugString(),
                              tb ? " (transposed)" : "");
  }
  c->set_output(0, PartialShape{m, n});
  return absl::OkStatus();
}

absl::Status BatchMatMulShape(InferenceContext* c, bool broadcast) {
  RETURN_IF_ERROR(c->WithRankAtLeast(0, 2));
  RETURN_IF_ERROR(c->WithRankAtLeast(1, 2));
  const PartialShape& x = c->input(0);
  const PartialShape& y = c->input(1);
  if (x.unknown_rank() || y.unknown_rank()) return absl::OkStatus();
  bool adj_x, adj_y;
  RETURN_IF_ERROR(c->GetAttr("adj_x", &adj_x));
  RETURN_IF_ERROR(c->GetAttr("adj_y", &adj_y));
  int xr = x.rank(), yr = y.rank();
  int64_t m = x.dim(adj_x ? xr - 1 : xr - 2), kx = x.dim(adj_x ? xr - 2 : xr - 1);
  int64_t ky = y.dim(adj_y ? yr - 1 : yr - 2), n = y.dim(adj_y ? yr - 2 : yr - 1);
  if (kx >= 0 && ky >= 0 && kx != ky) {
    return c->InvalidArgument("BatchMatMul: inner dimensions differ, x is ", x.DebugString(),
                              ", y is ", y.DebugString());
  }
  PartialShape bx(x.dims().subspan(0, xr - 2)), by(y.dims().subspan(0, yr - 2));
  PartialShape batch;
  if (broadcast) {
    ASSIGN_OR_RETURN(batch, shape_fn::Broadcast(bx, by));
  } else {
    auto merged = bx.Merge(by);
    if (!merged.ok()) {
      return c->InvalidArgument("BatchMatMul: batch dims differ, x is ", x.DebugString(), ", y is ",
                                y.DebugString());
    }
    batch = *merged;
  }
  batch.AddDim(m);
  batch.AddDim(n);
  c->set_output(0, batch);
  return absl::OkStatus();
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

absl::Status RangeShape(InferenceContext* c) {
  for (int i = 0; i < 3; ++i) RETURN_IF_ERROR(c->WithRank(i, 0));
  const Tensor *start = c->input_tensor(0), *limit = c->input_tensor(1),
               *delta = c->input_tensor(2);
  if (start == nullptr || limit == nullptr || delta == nullptr) {
    c->set_output(0, PartialShape::UnknownWithRank(1));
    return absl::OkStatus();
  }
  double s = 0, l = 0, d = 0;
  VisitDataType(start->dtype(), [&](auto zero) {
    using T = decltype(zero);
    s = static_cast<double>(start->scalar<T>());
    l = static_cast<double>(limit->scalar<T>());
    d = static_cast<double>(delta->scalar<T>());
  });
  if (d == 0) return c->InvalidArgument("Range: delta must not be 0");
  if ((d > 0 && s > l) || (d < 0 && s < l)) {
    return c->InvalidArgument("Range: start ", s, " is beyond limit ", l, " for delta ", d);
  }
  bool integral = start->dtype() == DT_INT32 || start->dtype() == DT_INT64;
  int64_t size = integral ? static_cast<int64_t>((std::abs(l - s) + std::abs(d) - 1) / std::abs(d))
                          : static_cast<int64_t>(std::ceil(std::abs((l - s) / d)));
  c->set_output(0, PartialShape{size});
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

absl::Status MatMulGrad(GradientContext* g) {
  bool ta, tb;
  RETURN_IF_ERROR(g->attrs().Get("transpose_a", &ta));
  RETURN_IF_ERROR(g->attrs().Get("transpose_b", &tb));
  Output a = g->input(0), b = g->input(1), dz = g->grad(0);
  auto mm = [&](Output x, Output y, bool tx, bool ty) {
    return g->Op("MatMul", {x, y}, {{"transpose_a", MakeAttr(tx)}, {"transpose_b", MakeAttr(ty)}});
  };
  if (!ta && !tb) {
    g->SetInputGrad(0, mm(dz, b, false, true));
    g->SetInputGrad(1, mm(a, dz, true, false));
  } else if (!ta && tb) {
    g->SetInputGrad(0, mm(dz, b, false, false));
    g->SetInputGrad(1, mm(dz, a, true, false));
  } else if (ta && !tb) {
    g->SetInputGrad(0, mm(b, dz, false, true));
    g->SetInputGrad(1, mm(a, dz, false, false));
  } else {
    g->SetInputGrad(0, mm(b, dz, true, true));
    g->SetInputGrad(1, mm(dz, a, true, true));
  }
  return absl::OkStatus();
}

// For reductions over constant axes: the gradient `dy` with the reduced dims put back as
// size 1 (so it broadcasts against x), and those axes.
absl::StatusOr<Output> KeptDims(GradientContext* g, std::vector<int64_t>* axes) {
  const Tensor* axes_value = g->input(1).node->constant_value();
  const int rank = g->input(0).shape().rank();
  if (axes_value == nullptr || rank < 0) {
    return absl::UnimplementedError(
        "the gradient of a reduction needs constant axes and an input of known rank");
  }
  for (int64_t k = 0; k < axes_value->NumElements(); ++k) {
    int64_t a = axes_value->dtype() == DT_INT32 ? axes_value->data<int32_t>()[k]
                                                : axes_value->data<int64_t>()[k];
    axes->push_back(a < 0 ? a + rank : a);
  }
  std::sort(axes->begin(), axes->end());
  bool keep_dims;
  RETURN_IF_ERROR(g->attrs().Get("keep_dims", &keep_dims));
  Output dy = g->grad(0);
  if (!keep_dims) {
    for (int64_t a : *axes) dy = g->Op("ExpandDims", {dy, g->Const(Tensor::Scalar<int32_t>(a))});
  }
  return dy;
}

absl::Status SumGrad(GradientContext* g) {
  std::vector<int64_t> axes;
  ASSIGN_OR_RETURN(Output dy, KeptDims(g, &axes));
  g->SetInputGrad(0, g->Add(dy, g->ZerosLike(g->input(0))));  // broadcast back to x
  return absl::OkStatus();
}

absl::Status MeanGrad(GradientContext* g) {
  std::vector<int64_t> axes;
  ASSIGN_OR_RETURN(Output dy, KeptDims(g, &axes));
  Output x = g->input(0);
  DataType t = x.dtype();
  Output count = g->Div(g->Cast(g->Op("Size", {x}), t), g->Cast(g->Op("Size", {g->output(0)}), t));
  g->SetInputGrad(0, g->Div(g->Add(dy, g->ZerosLike(x)), count));
  return absl::OkStatus();
}

// Max/Min: the gradient is shared equally by the elements that attain the extreme.
absl::Status ExtremumGrad(GradientContext* g) {
  std::vector<int64_t> axes;
  ASSIGN_OR_RETURN(Output dy, KeptDims(g, &axes));
  Output x = g->input(0);
  Output y = g->output(0);
  bool keep_dims;
  RETURN_IF_ERROR(g->attrs().Get("keep_dims", &keep_dims));
  if (!keep_dims) {
    for (int64_t a : axes) y = g->Op("ExpandDims", {y, g->Const(Tensor::Scalar<int32_t>(a))});
  }
  Output hits = g->Cast(g->Op("Equal", {x, y}), x.dtype());
  Output count = g->Sum(hits, g->IntVector(axes), /*keep_dims=*/true);
  g->SetInputGrad(0, g->Div(g->Mul(hits, dy), count));
  return absl::OkStatus();
}

// BatchMatMul(V2): like MatMul per batch; with broadcasting, summed over the batch dims an
// operand was broadcast along.
absl::Status BatchMatMulGrad(GradientContext* g) {
  bool adj_x, adj_y;
  RETURN_IF_ERROR(g->attrs().Get("adj_x", &adj_x));
  RETURN_IF_ERROR(g->attrs().Get("adj_y", &adj_y));
  Output x = g->input(0), y = g->input(1), dz = g->grad(0);
  auto bmm = [&](Output a, Output b, bool ta, bool tb) {
    return g->Op("BatchMatMulV2", {a, b}, {{"adj_x", MakeAttr(ta)}, {"adj_y", MakeAttr(tb)}});
  };
  Output dx = !adj_x ? (adj_y ? bmm(dz, y, false, false) : bmm(dz, y, false, true))
                     : (adj_y ? bmm(y, dz, true, true) : bmm(y, dz, false, true));
  Output dy = !adj_y ? (adj_x ? bmm(x, dz, false, false) : bmm(x, dz, true, false))
                     : (adj_x ? bmm(dz, x, true, true) : bmm(dz, x, true, false));
  const bool same_batch = x.shape().rank() >= 0 && x.shape().rank() == y.shape().rank() &&
                          g->node().type_string() == "BatchMatMul";
  if (same_batch) {
    g->SetInputGrad(0, dx);
    g->SetInputGrad(1, dy);
    return absl::OkStatus();
  }
  // Sum over broadcast batch dims: compare the batch parts of the two shapes.
  auto batch_shape = [&](Output t) {
    return g->Op("Slice",
                 {g->Shape(t), g->IntVector({0}),
                  g->Reshape(g->Sub(g->Op("Rank", {t}), g->Const(Tensor::Scalar<int32_t>(2))),
                             g->IntVector({1}))});
  };
  Node* args = g->AddNode("BroadcastGradientArgs", {batch_shape(x), batch_shape(y)});
  if (args == nullptr) return absl::OkStatus();
  g->SetInputGrad(0, g->Reshape(g->Sum(dx, {args, 0}), g->Shape(x)));
  g->SetInputGrad(1, g->Reshape(g->Sum(dy, {args, 1}), g->Shape(y)));
  return absl::OkStatus();
}

// Cumulative sums and products along an axis.
absl::Status CumulativeGrad(GradientContext* g, bool product) {
  bool exclusive, reverse;
  RETURN_IF_ERROR(g->attrs().Get("exclusive", &exclusive));
  RETURN_IF_ERROR(g->attrs().Get("reverse", &reverse));
  Output x = g->input(0), axis = g->input(1), dy = g->grad(0);
  std::map<std::string, AttrValue> attrs{{"exclusive", MakeAttr(exclusive)},
                                         {"reverse", MakeAttr(!reverse)}};
  if (!product) {  // each x feeds every later sum
    g->SetInputGrad(0, g->Op("Cumsum", {dy, axis}, attrs));
    return absl::OkStatus();
  }
  // d cumprod: sum over later outputs of dy * y / x (TensorFlow's formula: x must be
  // non-zero).
  Output y = g->output(0);
  g->SetInputGrad(0, g->Div(g->Op("Cumsum", {g->Mul(y, dy), axis}, attrs), x));
  return absl::OkStatus();
}

// d prod / d x_i = product of the other x's, built from exclusive cumulative products from
// both ends (exact when some x are zero).
absl::Status ProdGrad(GradientContext* g) {
  std::vector<int64_t> axes;
  ASSIGN_OR_RETURN(Output dy, KeptDims(g, &axes));
  Output x = g->input(0);
  const int rank = x.shape().rank();
  std::vector<int64_t> perm = axes, inverse(rank);
  for (int i = 0; i < rank; ++i) {
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) perm.push_back(i);
  }
  for (int i = 0; i < rank; ++i) inverse[perm[i]] = i;
  Output moved = g->Op("Transpose", {x, g->IntVector(perm)});
  Output reduced_dims =
      g->Op("GatherV2", {g->Shape(x), g->IntVector(axes), g->Const(Tensor::Scalar<int32_t>(0))});
  Output reduced = g->Op("Prod", {reduced_dims, g->IntVector({0})});
  Output matrix =
      g->Reshape(moved, g->Op("Pack", {reduced, g->Const(Tensor::Scalar<int32_t>(-1))}));
  Output zero = g->Const(Tensor::Scalar<int32_t>(0));
  auto cumprod = [&](bool reverse) {
    return g->Op("Cumprod", {matrix, zero},
                 {{"exclusive", MakeAttr(true)}, {"reverse", MakeAttr(reverse)}});
  };
  Output others = g->Reshape(g->Mul(cumprod(false), cumprod(true)), g->Shape(moved));
  Output others_in_place = g->Op("Transpose", {others, g->IntVector(inverse)});
  g->SetInputGrad(0, g->Mul(g->Add(dy, g->ZerosLike(x)), others_in_place));
  return absl::OkStatus();
}

std::function<void(OpDefBuilder&)> Cumulative() {
  return [](OpDefBuilder& b) {
    b.Input("x: T")
        .Input("axis: Tidx")
        .Output("out: T")
        .Attr("exclusive: bool = false")
        .Attr("reverse: bool = false")
        .Attr("T: {float, double, int32, int64}")
        .Attr("Tidx: {int32, int64} = DT_INT32")
        .SetShapeFn(shape_fn::Unchanged);
  };
}

}  // namespace

REGISTER_OP("Add")
    .SetGradient(AddGrad)
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("x + y, elementwise, with broadcasting.");
REGISTER_OP("AddV2")
    .SetGradient(AddGrad)
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("x + y, elementwise, with broadcasting.");
REGISTER_OP("Sub")
    .SetGradient(SubGrad)
    .Apply(BinaryCwise(kRealTypes))
    .Doc("x - y, elementwise, with broadcasting.");
REGISTER_OP("Mul")
    .SetGradient(MulGrad)
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("x * y, elementwise, with broadcasting.");
REGISTER_OP("RealDiv")
    .SetGradient(DivGrad)
    .Apply(BinaryCwise(kRealTypes))
    .Doc("x / y, elementwise (integer division truncates toward zero).");
REGISTER_OP("Div")
    .SetGradient(DivGrad)
    .Apply(BinaryCwise(kRealTypes))
    .Doc("x / y, elementwise; integers floor as Python 2 did.");
REGISTER_OP("FloorDiv")
    .SetNoGradient()
    .Apply(BinaryCwise(kRealTypes))
    .Doc("floor(x / y), elementwise.");
REGISTER_OP("FloorMod")
    .SetGradient(FloorModGrad)
    .Apply(BinaryCwise(kRealTypes))
    .Doc("x - floor(x / y) * y, elementwise: the remainder has the sign of y.");
REGISTER_OP("Pow")
    .SetGradient(PowGrad)
    .Apply(BinaryCwise(kSignedTypes))
    .Doc("x ** y, elementwise.");
REGISTER_OP("Maximum")
    .SetGradient([](GradientContext* g) { return SelectedGrad(g, "GreaterEqual"); })
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("max(x, y), elementwise.");
REGISTER_OP("Minimum")
    .SetGradient([](GradientContext* g) { return SelectedGrad(g, "LessEqual"); })
    .Apply(BinaryCwise(kRealTypes))
    .SetIsCommutative()
    .Doc("min(x, y), elementwise.");
REGISTER_OP("SquaredDifference")
    .SetGradient(SquaredDifferenceGrad)
    .Apply(BinaryCwise(kSignedTypes))
    .SetIsCommutative()
    .Doc("(x - y)^2, elementwise.");

REGISTER_OP("Equal")
    .Apply(Comparison(kAllTypes))
    .SetIsCommutative()
    .Attr("incompatible_shape_error: bool = true")
    .Doc("x == y, elementwise.");
REGISTER_OP("NotEqual")
    .Apply(Comparison(kAllTypes))
    .SetIsCommutative()
    .Attr("incompatible_shape_error: bool = true")
    .Doc("x != y, elementwise.");
REGISTER_OP("Less").Apply(Comparison(kRealTypes)).Doc("x < y, elementwise.");
REGISTER_OP("LessEqual").Apply(Comparison(kRealTypes)).Doc("x <= y, elementwise.");
REGISTER_OP("Greater").Apply(Comparison(kRealTypes)).Doc("x > y, elementwise.");
REGISTER_OP("GreaterEqual").Apply(Comparison(kRealTypes)).Doc("x >= y, elementwise.");

REGISTER_OP("LogicalAnd")
    .Input("x: bool")
    .Input("y: bool")
    .Output("z: bool")
    .SetIsCommutative()
    .SetShapeFn(shape_fn::BroadcastBinary)
    .Doc("x and y, elementwise.");
REGISTER_OP("LogicalOr")
    .Input("x: bool")
    .Input("y: bool")
    .Output("z: bool")
    .SetIsCommutative()
    .SetShapeFn(shape_fn::BroadcastBinary)
    .Doc("x or y, elementwise.");
REGISTER_OP("LogicalNot")
    .Input("x: bool")
    .Output("y: bool")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("not x, elementwise.");

REGISTER_OP("Neg").SetGradient(NegGrad).Apply(UnaryCwise(kSignedTypes)).Doc("-x, elementwise.");
REGISTER_OP("Abs")
    .SetGradient(Unary([](GradientContext* g, Output x, Output) { return g->Op("Sign", {x}); }))
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("|x|, elementwise.");
REGISTER_OP("Square")
    .SetGradient(Unary([](GradientContext* g, Output x, Output) {
      return g->Mul(g->Scalar(2, x.dtype()), x);
    }))
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("x * x, elementwise.");
REGISTER_OP("Sign")
    .SetNoGradient()
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("-1, 0 or 1 by the sign of x.");
REGISTER_OP("Sqrt")
    .SetGradient(Unary([](GradientContext* g, Output, Output y) {
      return g->Div(g->Scalar(0.5, y.dtype()), y);
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("sqrt(x), elementwise.");
REGISTER_OP("Rsqrt")
    .SetGradient(Unary([](GradientContext* g, Output, Output y) {
      return g->Mul(g->Scalar(-0.5, y.dtype()), g->Mul(y, g->Mul(y, y)));
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("1 / sqrt(x), elementwise.");
REGISTER_OP("Reciprocal")
    .SetGradient(Unary([](GradientContext* g, Output, Output y) { return g->Neg(g->Mul(y, y)); }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("1 / x, elementwise.");
REGISTER_OP("Exp")
    .SetGradient(Unary([](GradientContext*, Output, Output y) { return y; }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("e^x, elementwise.");
REGISTER_OP("Log")
    .SetGradient(Unary([](GradientContext* g, Output x, Output) {
      return g->Op("Reciprocal", {x});
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("ln(x), elementwise.");
REGISTER_OP("Log1p")
    .SetGradient(Unary([](GradientContext* g, Output x, Output) {
      return g->Op("Reciprocal", {g->Add(One(g, x), x)});
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("ln(1 + x), elementwise.");
REGISTER_OP("Floor").SetNoGradient().Apply(UnaryCwise(kFloatTypes)).Doc("floor(x), elementwise.");
REGISTER_OP("Ceil").SetNoGradient().Apply(UnaryCwise(kFloatTypes)).Doc("ceil(x), elementwise.");
REGISTER_OP("Round")
    .SetNoGradient()
    .Apply(UnaryCwise(kSignedTypes))
    .Doc("x rounded to the nearest integer, halves to even (banker's rounding).");
REGISTER_OP("Sigmoid")
    .SetGradient(Unary([](GradientContext* g, Output, Output y) {
      return g->Mul(y, g->Sub(One(g, y), y));
    }))
    .Apply(UnaryCwise(kFloatTypes))
    .Doc("1 / (1 + e^-x), elementwise.");
REGISTER_OP("Tanh")
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

REGISTER_OP("MatMul")
    .SetGradient(MatMulGrad)
    .Input("a: T")
    .Input("b: T")
    .Output("product: T")
    .Attr("transpose_a: bool = false")
    .Attr("transpose_b: bool = false")
    .Attr("T: {float, double, int32, int64}")
    .SetShapeFn(MatMulShape)
    .Doc("The matrix product of a and b (either transposed first).");

REGISTER_OP("_FusedMatMul")
    .Input("a: T")
    .Input("b: T")
    .Apply(FusedOpArgs())
    .Output("product: T")
    .Attr("transpose_a: bool = false")
    .Attr("transpose_b: bool = false")
    .Attr("T: {float}")
    .SetShapeFn(MatMulShape)
    .Doc("MatMul followed by the ops in `fused_ops` (BiasAdd, then Relu or Relu6).");

REGISTER_OP("BatchMatMul")
    .SetGradient(BatchMatMulGrad)
    .Input("x: T")
    .Input("y: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64}")
    .Attr("adj_x: bool = false")
    .Attr("adj_y: bool = false")
    .SetShapeFn([](InferenceContext* c) { return BatchMatMulShape(c, /*broadcast=*/false); })
    .Doc("Matrix products over the leading (batch) dims, which must match.");

REGISTER_OP("BatchMatMulV2")
    .SetGradient(BatchMatMulGrad)
    .Input("x: T")
    .Input("y: T")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64}")
    .Attr("adj_x: bool = false")
    .Attr("adj_y: bool = false")
    .SetShapeFn([](InferenceContext* c) { return BatchMatMulShape(c, /*broadcast=*/true); })
    .Doc("Matrix products over the leading (batch) dims, with broadcasting.");

REGISTER_OP("Sum")
    .SetGradient(SumGrad)
    .Apply(Reduction(kRealTypes))
    .Doc("Sum over the given axes.");
REGISTER_OP("Mean")
    .SetGradient(MeanGrad)
    .Apply(Reduction(kRealTypes))
    .Doc("Mean over the given axes.");
REGISTER_OP("Max")
    .SetGradient(ExtremumGrad)
    .Apply(Reduction(kRealTypes))
    .Doc("Maximum over the given axes.");
REGISTER_OP("Min")
    .SetGradient(ExtremumGrad)
    .Apply(Reduction(kRealTypes))
    .Doc("Minimum over the given axes.");
REGISTER_OP("Prod")
    .SetGradient(ProdGrad)
    .Apply(Reduction(kRealTypes))
    .Doc("Product over the given axes.");
REGISTER_OP("All")
    .Input("input: bool")
    .Input("reduction_indices: Tidx")
    .Output("output: bool")
    .Attr("keep_dims: bool = false")
    .Attr("Tidx: {int32, int64} = DT_INT32")
    .SetShapeFn(ReductionShape)
    .Doc("Logical and over the given axes.");
REGISTER_OP("Any")
    .Input("input: bool")
    .Input("reduction_indices: Tidx")
    .Output("output: bool")
    .Attr("keep_dims: bool = false")
    .Attr("Tidx: {int32, int64} = DT_INT32")
    .SetShapeFn(ReductionShape)
    .Doc("Logical or over the given axes.");

REGISTER_OP("ArgMax")
    .SetNoGradient()
    .Apply(ArgReduction())
    .Doc("Index of the largest value along an axis (the first on ties).");
REGISTER_OP("ArgMin")
    .SetNoGradient()
    .Apply(ArgReduction())
    .Doc("Index of the smallest value along an axis (the first on ties).");

REGISTER_OP("Range")
    .SetNoGradient()
    .Input("start: Tidx")
    .Input("limit: Tidx")
    .Input("delta: Tidx")
    .Output("output: Tidx")
    .Attr("Tidx: {float, double, int32, int64} = DT_INT32")
    .SetShapeFn(RangeShape)
    .Doc("[start, start + delta, ...) up to but not including limit.");

REGISTER_OP("Cumsum")
    .SetGradient([](GradientContext* g) { return CumulativeGrad(g, /*product=*/false); })
    .Apply(Cumulative())
    .Doc(
        "Running sums along `axis` (exclusive: each excludes its own element; reverse: from "
        "the end).");

REGISTER_OP("Cumprod")
    .SetGradient([](GradientContext* g) { return CumulativeGrad(g, /*product=*/true); })
    .Apply(Cumulative())
    .Doc(
        "Running products along `axis` (exclusive: each excludes its own element; reverse: "
        "from the end).");

}  // namespace runnel
