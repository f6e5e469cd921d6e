// Reductions over axes (Sum, Mean, Max, Min, Prod, All, Any), ArgMax/ArgMin, running
// sums and products, and UnsortedSegmentSum.
#include <algorithm>

#include "core/gradients.h"
#include "core/op_registry.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

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

// All and Any: a reduction's signature over bool.
std::function<void(OpDefBuilder&)> LogicalReduction() {
  return [](OpDefBuilder& b) {
    b.Input("input: bool")
        .Input("reduction_indices: Tidx")
        .Output("output: bool")
        .Attr("keep_dims: bool = false")
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

absl::Status UnsortedSegmentSumShape(InferenceContext* c) {
  const PartialShape& data = c->input(0);
  const PartialShape& ids = c->input(1);
  int64_t n = -1;
  c->ConstantScalar(2, &n);
  if (data.unknown_rank() || ids.unknown_rank()) {
    c->set_output(0, PartialShape::UnknownRank());
    return absl::OkStatus();
  }
  if (ids.rank() > data.rank()) {
    return c->InvalidArgument("segment_ids ", ids.DebugString(), " has more dims than data ",
                              data.DebugString());
  }
  PartialShape out{n};
  for (int i = ids.rank(); i < data.rank(); ++i) out.AddDim(data.dim(i));
  c->set_output(0, out);
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

REGISTER_OP("All").Apply(LogicalReduction()).Doc("Logical and over the given axes.");

REGISTER_OP("Any").Apply(LogicalReduction()).Doc("Logical or over the given axes.");

REGISTER_OP("ArgMax")
    .SetNoGradient()
    .Apply(ArgReduction())
    .Doc("Index of the largest value along an axis (the first on ties).");

REGISTER_OP("ArgMin")
    .SetNoGradient()
    .Apply(ArgReduction())
    .Doc("Index of the smallest value along an axis (the first on ties).");

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

REGISTER_OP("UnsortedSegmentSum")
    .SetGradient([](GradientContext* g) {  // each row gets its segment's gradient back
      g->SetInputGrad(
          0, g->Op("GatherV2", {g->grad(0), g->input(1), g->Const(Tensor::Scalar<int32_t>(0))}));
      return absl::OkStatus();
    })
    .Input("data: T")
    .Input("segment_ids: Tindices")
    .Input("num_segments: Tnumsegments")
    .Output("output: T")
    .Attr("T: {float, double, int32, int64}")
    .Attr("Tindices: {int32, int64}")
    .Attr("Tnumsegments: {int32, int64} = DT_INT32")
    .SetShapeFn(UnsortedSegmentSumShape)
    .Doc(
        "output[i] = sum of data[j] over j with segment_ids[j] == i; ids out of range are "
        "an error.");

}  // namespace runnel
