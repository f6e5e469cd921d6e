// Joining and slicing ops: ConcatV2, Pack/Unpack, Split/SplitV, Slice, StridedSlice,
// Tile, GatherV2, OneHot, Pad, and the gradient helper StridedSliceGrad. Each op's shape
// function and gradient sit beside it.
#include <map>

#include "absl/strings/str_join.h"
#include "core/gradients.h"
#include "core/op_registry.h"
#include "core/strided_slice.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

// Concatenation of inputs [first, first + n) along constant `axis`.
absl::Status ConcatLike(InferenceContext* c, int first, int n, int64_t axis, bool stack) {
  PartialShape out = PartialShape::UnknownRank();
  for (int i = first; i < first + n; ++i) {
    auto merged = out.Merge(c->input(i));
    // Along the concat axis the sizes may differ; compare the other dims only.
    if (!merged.ok() && !stack) {
      if (c->input(i).rank() != out.rank()) {
        return c->InvalidArgument("inputs to concatenate have ranks ", out.rank(), " and ",
                                  c->input(i).rank());
      }
      merged = out;
    } else if (!merged.ok()) {
      return c->InvalidArgument("inputs to stack have incompatible shapes ", out.DebugString(),
                                " and ", c->input(i).DebugString());
    }
    out = *merged;
  }
  if (out.unknown_rank()) return absl::OkStatus();
  if (stack) {
    ASSIGN_OR_RETURN(int a, CanonicalAxis(axis, out.rank() + 1));
    PartialShape s;
    for (int i = 0; i <= out.rank(); ++i) {
      if (i == a) s.AddDim(n);
      if (i < out.rank()) s.AddDim(out.dim(i));
    }
    c->set_output(0, s);
    return absl::OkStatus();
  }
  if (out.rank() == 0) return c->InvalidArgument("cannot concatenate scalars");
  ASSIGN_OR_RETURN(int a, CanonicalAxis(axis, out.rank()));
  int64_t total = 0;
  for (int i = first; i < first + n; ++i) {
    const PartialShape& in = c->input(i);
    if (in.unknown_rank()) {  // fits any rank; its share of the axis is unknown
      total = -1;
      continue;
    }
    if (in.rank() != out.rank()) {
      return c->InvalidArgument("inputs to concatenate have ranks ", out.rank(), " and ",
                                in.rank());
    }
    for (int d = 0; d < in.rank(); ++d) {
      if (d != a && in.dim(d) >= 0 && out.dim(d) >= 0 && in.dim(d) != out.dim(d)) {
        return c->InvalidArgument("inputs to concatenate differ in dim ", d, ": ",
                                  c->input(first).DebugString(), " vs ", in.DebugString());
      }
    }
    total = (total < 0 || in.dim(a) < 0) ? -1 : total + in.dim(a);
  }
  out.set_dim(a, total);
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status ConcatV2Shape(InferenceContext* c) {
  int n = c->num_inputs() - 1;
  int64_t axis;
  if (!c->ConstantScalar(n, &axis)) {
    int rank = -1;
    for (int i = 0; i < n; ++i) rank = std::max(rank, c->input(i).rank());
    c->set_output(0, rank < 0 ? PartialShape::UnknownRank() : PartialShape::UnknownWithRank(rank));
    return absl::OkStatus();
  }
  return ConcatLike(c, 0, n, axis, /*stack=*/false);
}

absl::Status PackShape(InferenceContext* c) {
  int64_t axis;
  RETURN_IF_ERROR(c->GetAttr("axis", &axis));
  return ConcatLike(c, 0, c->num_inputs(), axis, /*stack=*/true);
}

absl::Status UnpackShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  int64_t axis;
  RETURN_IF_ERROR(c->GetAttr("axis", &axis));
  if (x.unknown_rank()) return absl::OkStatus();
  ASSIGN_OR_RETURN(int a, CanonicalAxis(axis, x.rank()));
  if (x.dim(a) >= 0 && x.dim(a) != c->num_outputs()) {
    return c->InvalidArgument("cannot unpack ", x.dim(a), " rows into ", c->num_outputs(),
                              " outputs");
  }
  PartialShape out;
  for (int i = 0; i < x.rank(); ++i) {
    if (i != a) out.AddDim(x.dim(i));
  }
  for (int i = 0; i < c->num_outputs(); ++i) c->set_output(i, out);
  return absl::OkStatus();
}

absl::Status SplitShape(InferenceContext* c) {
  const PartialShape& x = c->input(1);
  int n = c->num_outputs();
  int64_t axis;
  if (x.unknown_rank() || !c->ConstantScalar(0, &axis)) {
    for (int i = 0; i < n; ++i) {
      c->set_output(i, x.unknown_rank() ? x : PartialShape::UnknownWithRank(x.rank()));
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(int a, CanonicalAxis(axis, x.rank()));
  if (x.dim(a) >= 0 && x.dim(a) % n != 0) {
    return c->InvalidArgument("dimension ", a, " of size ", x.dim(a),
                              " does not split evenly into ", n, " parts");
  }
  PartialShape out = x;
  out.set_dim(a, x.dim(a) < 0 ? -1 : x.dim(a) / n);
  for (int i = 0; i < n; ++i) c->set_output(i, out);
  return absl::OkStatus();
}

absl::Status SplitVShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  int n = c->num_outputs();
  int64_t axis;
  std::vector<int64_t> sizes;
  if (x.unknown_rank() || !c->ConstantScalar(2, &axis) || !ConstantVector(*c, 1, &sizes)) {
    for (int i = 0; i < n; ++i) {
      c->set_output(i, x.unknown_rank() ? x : PartialShape::UnknownWithRank(x.rank()));
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(int a, CanonicalAxis(axis, x.rank()));
  if (static_cast<int>(sizes.size()) != n) {
    return c->InvalidArgument("size_splits has ", sizes.size(), " entries for num_split ", n);
  }
  int64_t known = 0, unknown = -1;
  for (int i = 0; i < n; ++i) {
    if (sizes[i] == -1) {
      if (unknown >= 0) return c->InvalidArgument("only one size_splits entry can be -1");
      unknown = i;
    } else {
      known += sizes[i];
    }
  }
  if (unknown >= 0 && x.dim(a) >= 0) sizes[unknown] = x.dim(a) - known;
  if (unknown < 0 && x.dim(a) >= 0 && known != x.dim(a)) {
    return c->InvalidArgument("size_splits sum to ", known, " but dimension ", a, " has size ",
                              x.dim(a));
  }
  for (int i = 0; i < n; ++i) {
    PartialShape out = x;
    out.set_dim(a, sizes[i]);
    c->set_output(i, out);
  }
  return absl::OkStatus();
}

absl::Status SliceShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  std::vector<int64_t> begin, size;
  if (!ConstantVector(*c, 1, &begin) || !ConstantVector(*c, 2, &size)) {
    int rank = x.rank() >= 0 ? x.rank() : (c->input(1).rank() == 1 ? c->input(1).dim(0) : -1);
    c->set_output(0, rank < 0 ? PartialShape::UnknownRank() : PartialShape::UnknownWithRank(rank));
    return absl::OkStatus();
  }
  if (x.rank() >= 0 &&
      (begin.size() != size.size() || static_cast<int>(begin.size()) != x.rank())) {
    return c->InvalidArgument("begin and size must have one entry per input dim (", x.rank(),
                              "), have ", begin.size(), " and ", size.size());
  }
  PartialShape out;
  for (size_t i = 0; i < size.size(); ++i) {
    int64_t dim = x.rank() >= 0 ? x.dim(static_cast<int>(i)) : -1;
    if (size[i] == -1) {
      out.AddDim(dim < 0 ? -1 : dim - begin[i]);
    } else {
      if (dim >= 0 && (begin[i] < 0 || size[i] < 0 || begin[i] + size[i] > dim)) {
        return c->InvalidArgument("slice [", begin[i], ", ", begin[i] + size[i], ") of dim ", i,
                                  " is out of bounds for size ", dim);
      }
      out.AddDim(size[i]);
    }
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status StridedSliceShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  std::vector<int64_t> begin, end, strides;
  if (x.unknown_rank() || !ConstantVector(*c, 1, &begin) || !ConstantVector(*c, 2, &end) ||
      !ConstantVector(*c, 3, &strides)) {
    return absl::OkStatus();
  }
  StridedSliceMasks m;
  RETURN_IF_ERROR(ReadStridedSliceMasks(c->attrs(), &m));
  ASSIGN_OR_RETURN(StridedSlicePlan plan, PlanStridedSlice(x, begin, end, strides, m));
  c->set_output(0, plan.final_shape);
  return absl::OkStatus();
}

absl::Status TileShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  std::vector<int64_t> multiples;
  if (x.unknown_rank()) return absl::OkStatus();
  if (!ConstantVector(*c, 1, &multiples)) {
    c->set_output(0, PartialShape::UnknownWithRank(x.rank()));
    return absl::OkStatus();
  }
  if (static_cast<int>(multiples.size()) != x.rank()) {
    return c->InvalidArgument("multiples has ", multiples.size(), " entries for an input of rank ",
                              x.rank());
  }
  PartialShape out;
  for (int i = 0; i < x.rank(); ++i) {
    if (multiples[i] < 0) return c->InvalidArgument("multiples must be non-negative");
    int64_t dim = -1;
    if (x.dim(i) >= 0 && __builtin_mul_overflow(x.dim(i), multiples[i], &dim)) {
      return c->InvalidArgument("dimension ", i, " of size ", x.dim(i), " tiled ", multiples[i],
                                " times has more elements than an int64 counts");
    }
    out.AddDim(dim);
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status GatherV2Shape(InferenceContext* c) {
  const PartialShape& params = c->input(0);
  const PartialShape& indices = c->input(1);
  int64_t axis, batch_dims;
  RETURN_IF_ERROR(c->GetAttr("batch_dims", &batch_dims));
  if (batch_dims != 0) return c->InvalidArgument("batch_dims other than 0 is not supported yet");
  if (params.unknown_rank() || indices.unknown_rank() || !c->ConstantScalar(2, &axis)) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(int a, CanonicalAxis(axis, params.rank()));
  PartialShape out;
  for (int i = 0; i < a; ++i) out.AddDim(params.dim(i));
  for (int i = 0; i < indices.rank(); ++i) out.AddDim(indices.dim(i));
  for (int i = a + 1; i < params.rank(); ++i) out.AddDim(params.dim(i));
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status OneHotShape(InferenceContext* c) {
  const PartialShape& indices = c->input(0);
  int64_t axis, depth = -1;
  RETURN_IF_ERROR(c->GetAttr("axis", &axis));
  if (c->ConstantScalar(1, &depth) && depth < 0) {
    return c->InvalidArgument("depth must be non-negative, got ", depth);
  }
  if (indices.unknown_rank()) return absl::OkStatus();
  if (axis < -1 || axis > indices.rank()) {
    return c->InvalidArgument("axis ", axis, " is out of range for indices of rank ",
                              indices.rank());
  }
  int a = axis == -1 ? indices.rank() : static_cast<int>(axis);
  PartialShape out;
  for (int i = 0; i <= indices.rank(); ++i) {
    if (i == a) out.AddDim(depth);
    if (i < indices.rank()) out.AddDim(indices.dim(i));
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status PadShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  std::vector<int64_t> pads;
  if (x.unknown_rank()) return absl::OkStatus();
  if (!ConstantVector(*c, 1, &pads) && c->input_tensor(1) == nullptr) {
    c->set_output(0, PartialShape::UnknownWithRank(x.rank()));
    return absl::OkStatus();
  }
  const Tensor* p = c->input_tensor(1);
  if (p->dims() != 2 || p->dim_size(0) != x.rank() || p->dim_size(1) != 2) {
    return c->InvalidArgument("paddings must have shape [", x.rank(), ",2], has ",
                              p->shape().DebugString());
  }
  PartialShape out;
  for (int i = 0; i < x.rank(); ++i) {
    int64_t lo = p->dtype() == DT_INT32 ? p->data<int32_t>()[2 * i] : p->data<int64_t>()[2 * i];
    int64_t hi =
        p->dtype() == DT_INT32 ? p->data<int32_t>()[2 * i + 1] : p->data<int64_t>()[2 * i + 1];
    if (lo < 0 || hi < 0) return c->InvalidArgument("paddings must be non-negative");
    out.AddDim(x.dim(i) < 0 ? -1 : x.dim(i) + lo + hi);
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

// The sizes of inputs [0, n) along `axis` (which may count from the end), as an int32
// vector.
Output SizesAlong(GradientContext* g, int n, Output axis) {
  std::vector<Output> sizes;
  Output from_start = g->Op("FloorMod", {g->Cast(axis, DT_INT32), g->Op("Rank", {g->input(0)})});
  Output axis_vector = g->Reshape(from_start, g->IntVector({1}));
  for (int i = 0; i < n; ++i) {
    sizes.push_back(g->Op("Slice", {g->Shape(g->input(i)), axis_vector, g->IntVector({1})}));
  }
  if (n == 1) return sizes[0];
  sizes.push_back(g->Const(Tensor::Scalar<int32_t>(0)));
  return g->Op("ConcatV2", sizes);
}

absl::Status ConcatV2Grad(GradientContext* g) {
  const int n = g->num_inputs() - 1;
  Output axis = g->Cast(g->input(n), DT_INT32);
  Node* split = g->AddNode("SplitV", {g->grad(0), SizesAlong(g, n, axis), axis},
                           {{"num_split", MakeAttr(int64_t{n})}});
  for (int i = 0; i < n && split != nullptr; ++i) g->SetInputGrad(i, {split, i});
  return absl::OkStatus();
}

absl::Status PackGrad(GradientContext* g) {
  int64_t axis;
  RETURN_IF_ERROR(g->attrs().Get("axis", &axis));
  const int n = g->num_inputs();
  Node* unpack =
      g->AddNode("Unpack", {g->grad(0)}, {{"num", MakeAttr(int64_t{n})}, {"axis", MakeAttr(axis)}});
  for (int i = 0; i < n && unpack != nullptr; ++i) g->SetInputGrad(i, {unpack, i});
  return absl::OkStatus();
}

absl::Status UnpackGrad(GradientContext* g) {
  int64_t axis;
  RETURN_IF_ERROR(g->attrs().Get("axis", &axis));
  std::vector<Output> grads;
  for (int i = 0; i < g->node().num_outputs(); ++i) grads.push_back(g->grad(i));
  g->SetInputGrad(0, g->Op("Pack", grads, {{"axis", MakeAttr(axis)}}));
  return absl::OkStatus();
}

// Split (split_dim, value) and SplitV (value, sizes, split_dim): concatenate the pieces.
absl::Status SplitGrad(GradientContext* g, int value_input, int axis_input) {
  std::vector<Output> grads;
  for (int i = 0; i < g->node().num_outputs(); ++i) grads.push_back(g->grad(i));
  grads.push_back(g->input(axis_input));
  g->SetInputGrad(value_input, grads.size() == 2 ? grads[0] : g->Op("ConcatV2", grads));
  return absl::OkStatus();
}

// Slice and Pad are each other's gradient.
absl::Status SliceGrad(GradientContext* g) {
  Output x = g->input(0), begin = g->input(1), y = g->output(0);
  DataType index = begin.dtype();
  auto shape = [&](Output t) { return g->Op("Shape", {t}, {{"out_type", MakeAttr(index)}}); };
  Output after = g->Sub(g->Sub(shape(x), begin), shape(y));
  Output paddings = g->Op("Pack", {begin, after}, {{"axis", MakeAttr(int64_t{1})}});
  g->SetInputGrad(0, g->Op("Pad", {g->grad(0), paddings}));
  return absl::OkStatus();
}

absl::Status PadGrad(GradientContext* g) {
  Output x = g->input(0), paddings = g->input(1);
  DataType index = paddings.dtype();
  Output rank = g->Op("Rank", {x});
  Output size = g->Op("Pack", {g->Cast(rank, index), g->Cast(g->Scalar(1, DT_INT32), index)});
  Output begin = g->Op("Slice", {paddings, g->Cast(g->IntVector({0, 0}), index), size});
  Output begin_vector = g->Reshape(begin, g->IntVector({-1}));
  Output x_shape = g->Op("Shape", {x}, {{"out_type", MakeAttr(index)}});
  g->SetInputGrad(0, g->Op("Slice", {g->grad(0), begin_vector, x_shape}));
  return absl::OkStatus();
}

absl::Status TileGrad(GradientContext* g) {
  Output x = g->input(0);
  const int rank = x.shape().rank();
  if (rank < 0) return absl::UnimplementedError("the gradient of Tile needs a known rank");
  // View dy as [m0, d0, m1, d1, ...] and sum over the m's.
  Output multiples = g->Cast(g->input(1), DT_INT32);
  Output pairs = g->Op("Pack", {multiples, g->Shape(x)}, {{"axis", MakeAttr(int64_t{1})}});
  Output split_shape = g->Reshape(pairs, g->IntVector({-1}));
  std::vector<int64_t> axes;
  for (int i = 0; i < rank; ++i) axes.push_back(2 * i);
  g->SetInputGrad(0, g->Sum(g->Reshape(g->grad(0), split_shape), g->IntVector(axes)));
  return absl::OkStatus();
}

absl::Status StridedSliceGradient(GradientContext* g) {
  std::map<std::string, AttrValue> masks;
  for (const char* m :
       {"begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"}) {
    masks[m] = *g->attrs().Find(m);
  }
  Output x = g->input(0);
  Output shape = g->Op("Shape", {x}, {{"out_type", MakeAttr(g->input(1).dtype())}});
  g->SetInputGrad(0, g->Op("StridedSliceGrad",
                           {shape, g->input(1), g->input(2), g->input(3), g->grad(0)}, masks));
  return absl::OkStatus();
}

// The gradient of gather along axis 0: the rows of dy summed into the rows they came from.
// Other axes are moved to the front first.
absl::Status GatherV2Grad(GradientContext* g) {
  const Tensor* axis_value = g->input(2).node->constant_value();
  const int rank = g->input(0).shape().rank();
  if (axis_value == nullptr || rank < 0) {
    return absl::UnimplementedError(
        "the gradient of GatherV2 needs a constant axis and known rank");
  }
  int64_t axis = axis_value->dtype() == DT_INT32 ? axis_value->scalar<int32_t>()
                                                 : axis_value->scalar<int64_t>();
  if (axis < 0) axis += rank;
  const int indices_rank = g->input(1).shape().rank();
  if (indices_rank < 0) return absl::UnimplementedError("GatherV2 gradient needs indices' rank");
  Output params = g->input(0), indices = g->input(1), dy = g->grad(0);
  // dy is params.shape[:axis] + indices.shape + params.shape[axis+1:]; move the indices
  // dims to the front, flatten them, and sum rows into params.shape[axis] segments.
  std::vector<int64_t> perm;
  for (int i = 0; i < indices_rank; ++i) perm.push_back(axis + i);
  for (int i = 0; i < axis; ++i) perm.push_back(i);
  for (int i = axis + indices_rank; i < rank - 1 + indices_rank; ++i) perm.push_back(i);
  Output moved = g->Op("Transpose", {dy, g->IntVector(perm)});
  Output flat_ids = g->Reshape(g->Cast(indices, DT_INT64), g->IntVector({-1}));
  Output params_shape = g->Op("Shape", {params}, {{"out_type", MakeAttr(DT_INT64)}});
  Output rows = g->Op("Slice", {params_shape, g->Const(Tensor::Vector<int64_t>({axis})),
                                g->Const(Tensor::Vector<int64_t>({1}))});
  Output num_segments = g->Reshape(rows, g->Const(Tensor::Vector<int64_t>({})));
  Output ids_count = g->Op("Size", {flat_ids}, {{"out_type", MakeAttr(DT_INT64)}});
  Output rest_shape =
      g->Op("Slice", {g->Shape(moved), g->IntVector({indices_rank}), g->IntVector({-1})});
  Output flat_dy = g->Reshape(
      moved, g->Op("ConcatV2", {g->Reshape(g->Cast(ids_count, DT_INT32), g->IntVector({1})),
                                rest_shape, g->Const(Tensor::Scalar<int32_t>(0))}));
  Output summed = g->Op("UnsortedSegmentSum", {flat_dy, flat_ids, num_segments});
  // summed is [params.shape[axis]] + params.shape[:axis] + params.shape[axis+1:].
  std::vector<int64_t> back;
  for (int i = 1; i <= axis; ++i) back.push_back(i);
  back.push_back(0);
  for (int i = axis + 1; i < rank; ++i) back.push_back(i);
  g->SetInputGrad(0, axis == 0 ? summed : g->Op("Transpose", {summed, g->IntVector(back)}));
  return absl::OkStatus();
}

void StridedSliceMaskAttrs(OpDefBuilder& b) {
  b.Attr("begin_mask: int = 0")
      .Attr("end_mask: int = 0")
      .Attr("ellipsis_mask: int = 0")
      .Attr("new_axis_mask: int = 0")
      .Attr("shrink_axis_mask: int = 0");
}

absl::Status StridedSliceGradShape(InferenceContext* c) {
  c->set_output(0, c->ShapeFromShapeTensor(0));
  return absl::OkStatus();
}

absl::Status ReverseSequenceShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  int64_t seq_dim, batch_dim;
  RETURN_IF_ERROR(c->GetAttr("seq_dim", &seq_dim));
  RETURN_IF_ERROR(c->GetAttr("batch_dim", &batch_dim));
  if (!x.unknown_rank() && (seq_dim < 0 || seq_dim >= x.rank() || batch_dim < 0 ||
                            batch_dim >= x.rank() || seq_dim == batch_dim)) {
    return c->InvalidArgument("seq_dim ", seq_dim, " and batch_dim ", batch_dim,
                              " must be two different dims of the input, of rank ", x.rank());
  }
  c->set_output(0, x);
  return absl::OkStatus();
}

// Reversing is its own inverse: the gradient reverses dy the same way.
absl::Status ReverseV2Grad(GradientContext* g) {
  g->SetInputGrad(0, g->Op("ReverseV2", {g->grad(0), g->input(1)}));
  return absl::OkStatus();
}

absl::Status ReverseSequenceGrad(GradientContext* g) {
  g->SetInputGrad(0, g->Op("ReverseSequence", {g->grad(0), g->input(1)},
                           g->CopyAttrs({"seq_dim", "batch_dim"})));
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("ConcatV2")
    .SetGradient(ConcatV2Grad)
    .Input("values: N * T")
    .Input("axis: Tidx")
    .Output("output: T")
    .Attr("N: int >= 2")
    .Attr("T: type")
    .Attr("Tidx: {int32, int64} = DT_INT32")
    .SetShapeFn(ConcatV2Shape)
    .Doc("Concatenates `values` along `axis`.");

REGISTER_OP("Pack")
    .SetGradient(PackGrad)
    .Input("values: N * T")
    .Output("output: T")
    .Attr("N: int >= 1")
    .Attr("T: type")
    .Attr("axis: int = 0")
    .SetShapeFn(PackShape)
    .Doc("Stacks N tensors of the same shape into one of rank + 1.");

REGISTER_OP("Unpack")
    .SetGradient(UnpackGrad)
    .Input("value: T")
    .Output("output: num * T")
    .Attr("num: int >= 0")
    .Attr("T: type")
    .Attr("axis: int = 0")
    .SetShapeFn(UnpackShape)
    .Doc("Unstacks `value` along `axis` into `num` tensors.");

REGISTER_OP("Split")
    .SetGradient([](GradientContext* g) { return SplitGrad(g, 1, 0); })
    .Input("split_dim: int32")
    .Input("value: T")
    .Output("output: num_split * T")
    .Attr("num_split: int >= 1")
    .Attr("T: type")
    .SetShapeFn(SplitShape)
    .Doc("Splits `value` into `num_split` equal parts along `split_dim`.");

REGISTER_OP("SplitV")
    .SetGradient([](GradientContext* g) { return SplitGrad(g, 0, 2); })
    .Input("value: T")
    .Input("size_splits: Tlen")
    .Input("split_dim: int32")
    .Output("output: num_split * T")
    .Attr("num_split: int >= 1")
    .Attr("T: type")
    .Attr("Tlen: {int32, int64} = DT_INT64")
    .SetShapeFn(SplitVShape)
    .Doc("Splits `value` along `split_dim` into parts of the given sizes (one may be -1).");

REGISTER_OP("Slice")
    .SetGradient(SliceGrad)
    .Input("input: T")
    .Input("begin: Index")
    .Input("size: Index")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Index: {int32, int64}")
    .SetShapeFn(SliceShape)
    .Doc("input[begin : begin + size]; a size of -1 takes the rest of the dim.");

REGISTER_OP("StridedSlice")
    .SetGradient(StridedSliceGradient)
    .Input("input: T")
    .Input("begin: Index")
    .Input("end: Index")
    .Input("strides: Index")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Index: {int32, int64}")
    .Apply(StridedSliceMaskAttrs)
    .SetShapeFn(StridedSliceShape)
    .Doc(
        "Python-style slicing: input[begin:end:strides] with masks for ..., newaxis and "
        "single indices.");

REGISTER_OP("Tile")
    .Endpoints({"tile"})
    .SetGradient(TileGrad)
    .Input("input: T")
    .Input("multiples: Tmultiples")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tmultiples: {int32, int64} = DT_INT32")
    .SetShapeFn(TileShape)
    .Doc("Repeats `input` multiples[i] times along dim i.");

REGISTER_OP("GatherV2")
    .SetGradient(GatherV2Grad)
    .Input("params: Tparams")
    .Input("indices: Tindices")
    .Input("axis: Taxis")
    .Output("output: Tparams")
    .Attr("batch_dims: int = 0")
    .Attr("Tparams: type")
    .Attr("Tindices: {int32, int64}")
    .Attr("Taxis: {int32, int64}")
    .SetShapeFn(GatherV2Shape)
    .Doc("Gathers slices of `params` along `axis` at `indices`.");

REGISTER_OP("OneHot")
    .SetNoGradient()
    .Input("indices: TI")
    .Input("depth: int32")
    .Input("on_value: T")
    .Input("off_value: T")
    .Output("output: T")
    .Attr("axis: int = -1")
    .Attr("T: type")
    .Attr("TI: {uint8, int32, int64} = DT_INT64")
    .SetShapeFn(OneHotShape)
    .Doc("One-hot encoding of `indices` with `depth` classes along `axis`.");

REGISTER_OP("Pad")
    .SetGradient(PadGrad)
    .Input("input: T")
    .Input("paddings: Tpaddings")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tpaddings: {int32, int64} = DT_INT32")
    .SetShapeFn(PadShape)
    .Doc("Pads `input` with zeros; paddings is [rank, 2] (before, after).");

REGISTER_OP("PadV2")
    .SetGradient(PadGrad)
    .Input("input: T")
    .Input("paddings: Tpaddings")
    .Input("constant_values: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tpaddings: {int32, int64} = DT_INT32")
    .SetShapeFn(PadShape)
    .Doc("Pads `input` with `constant_values`.");

REGISTER_OP("StridedSliceGrad")
    .SetNoGradient()
    .Input("shape: Index")
    .Input("begin: Index")
    .Input("end: Index")
    .Input("strides: Index")
    .Input("dy: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Index: {int32, int64}")
    .Apply(StridedSliceMaskAttrs)
    .SetShapeFn(StridedSliceGradShape)
    .Doc(
        "The gradient of StridedSlice: zeros of `shape` with dy placed where the slice took "
        "its values.");

REGISTER_OP("ReverseV2")
    .Endpoints({"reverse", "reverse_v2"})
    .SetGradient(ReverseV2Grad)
    .Input("tensor: T")
    .Input("axis: Tidx")
    .Output("output: T")
    .Attr("Tidx: {int32, int64} = DT_INT32")
    .Attr("T: type")
    .SetShapeFn([](InferenceContext* c) {
      c->set_output(0, c->input(0));
      return absl::OkStatus();
    })
    .Doc("`tensor` with the dims in `axis` reversed.");

REGISTER_OP("ReverseSequence")
    .SetGradient(ReverseSequenceGrad)
    .Input("input: T")
    .Input("seq_lengths: Tlen")
    .Output("output: T")
    .Attr("seq_dim: int")
    .Attr("batch_dim: int = 0")
    .Attr("T: type")
    .Attr("Tlen: {int32, int64} = DT_INT64")
    .SetShapeFn(ReverseSequenceShape)
    .Doc(
        "Each slice along `batch_dim` with its first seq_lengths[b] elements along `seq_dim` "
        "reversed.");

}  // namespace runnel
