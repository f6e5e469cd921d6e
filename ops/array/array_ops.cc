// Array ops: constants, placeholders, identity, shapes, reshaping, transpose, fill and
// select. Joining and slicing ops are in slice_join_ops.cc.
#include "absl/strings/str_join.h"
#include "core/gradients.h"
#include "core/op_registry.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

absl::Status ConstShape(InferenceContext* c) {
  const TensorProto* value;
  RETURN_IF_ERROR(c->GetAttr("value", &value));
  DataType dtype;
  RETURN_IF_ERROR(c->GetAttr("dtype", &dtype));
  if (value->dtype() != dtype) {
    return c->InvalidArgument("value is ", DataTypeString(value->dtype()), " but dtype is ",
                              DataTypeString(dtype));
  }
  c->set_output(0, PartialShape::FromProto(value->tensor_shape()));
  return absl::OkStatus();
}

absl::Status ShapeAttrShape(InferenceContext* c) {
  PartialShape shape;
  RETURN_IF_ERROR(c->GetAttr("shape", &shape));
  if (c->num_inputs() > 0) {  // PlaceholderWithDefault: the default must fit the shape
    auto merged = c->input(0).Merge(shape);
    if (!merged.ok())
      return c->InvalidArgument("default value's shape ", c->input(0).DebugString(),
                                " does not fit shape ", shape.DebugString());
  }
  c->set_output(0, shape);
  return absl::OkStatus();
}

absl::Status WhereShape(InferenceContext* c) {
  PartialShape out = PartialShape::UnknownWithRank(2);
  if (!c->input(0).unknown_rank()) out.set_dim(1, c->input(0).rank());
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status IdentityNShape(InferenceContext* c) {
  for (int i = 0; i < c->num_inputs(); ++i) c->set_output(i, c->input(i));
  return absl::OkStatus();
}

absl::Status ReshapeShape(InferenceContext* c) {
  PartialShape target = c->ShapeFromShapeTensor(1);
  if (target.unknown_rank()) return absl::OkStatus();
  int unknown_index = -1;
  int64_t known_product = 1;
  for (int i = 0; i < target.rank(); ++i) {
    if (target.dim(i) >= 0) {
      known_product *= target.dim(i);
      continue;
    }
    // -1 in a constant shape asks Runnel to infer that dim.
    if (c->input_tensor(1) != nullptr) {
      if (unknown_index >= 0) return c->InvalidArgument("only one dimension can be -1");
      unknown_index = i;
    }
  }
  int64_t n = c->input(0).num_elements();
  if (unknown_index >= 0 && n >= 0 && known_product > 0) {
    if (n % known_product != 0) {
      return c->InvalidArgument("cannot reshape a tensor with ", n, " elements to shape ",
                                target.DebugString());
    }
    target.set_dim(unknown_index, n / known_product);
  } else if (target.IsFullyDefined() && n >= 0 && target.num_elements() != n) {
    return c->InvalidArgument("cannot reshape a tensor with ", n, " elements to shape ",
                              target.DebugString(), " (", target.num_elements(), " elements)");
  }
  c->set_output(0, target);
  return absl::OkStatus();
}

absl::Status TransposeShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  std::vector<int64_t> perm;
  if (!ConstantVector(*c, 1, &perm)) {
    int rank = x.rank();
    if (rank < 0 && c->input(1).rank() == 1) rank = static_cast<int>(c->input(1).dim(0));
    c->set_output(0, rank < 0 ? PartialShape::UnknownRank() : PartialShape::UnknownWithRank(rank));
    return absl::OkStatus();
  }
  if (x.unknown_rank()) {
    c->set_output(0, PartialShape::UnknownWithRank(static_cast<int>(perm.size())));
    return absl::OkStatus();
  }
  if (static_cast<int>(perm.size()) != x.rank()) {
    return c->InvalidArgument("perm has ", perm.size(), " entries for an input of rank ", x.rank());
  }
  PartialShape out;
  std::vector<bool> seen(perm.size(), false);
  for (int64_t p : perm) {
    if (p < 0 || p >= x.rank() || seen[p]) {
      return c->InvalidArgument("perm [", absl::StrJoin(perm, ","), "] is not a permutation");
    }
    seen[p] = true;
    out.AddDim(x.dim(static_cast<int>(p)));
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status ShapeNShape(InferenceContext* c) {
  for (int i = 0; i < c->num_inputs(); ++i) {
    int r = c->input(i).rank();
    c->set_output(i, r < 0 ? PartialShape::UnknownWithRank(1) : PartialShape{r});
  }
  return absl::OkStatus();
}

absl::Status ExpandDimsShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  int64_t axis;
  if (x.unknown_rank() || !c->ConstantScalar(1, &axis)) {
    c->set_output(0, x.unknown_rank() ? x : PartialShape::UnknownWithRank(x.rank() + 1));
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(int a, CanonicalAxis(axis, x.rank() + 1));
  PartialShape out;
  for (int i = 0; i < x.rank(); ++i) {
    if (i == a) out.AddDim(1);
    out.AddDim(x.dim(i));
  }
  if (a == x.rank()) out.AddDim(1);
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status SqueezeShape(InferenceContext* c) {
  const PartialShape& x = c->input(0);
  std::vector<int64_t> dims;
  RETURN_IF_ERROR(c->GetAttr("squeeze_dims", &dims));
  if (x.unknown_rank()) return absl::OkStatus();
  std::vector<bool> drop(x.rank(), false);
  for (int64_t d : dims) {
    ASSIGN_OR_RETURN(int a, CanonicalAxis(d, x.rank()));
    if (x.dim(a) >= 0 && x.dim(a) != 1) {
      return c->InvalidArgument("cannot squeeze dim ", d, " of shape ", x.DebugString(),
                                ": its size is not 1");
    }
    drop[a] = true;
  }
  PartialShape out;
  for (int i = 0; i < x.rank(); ++i) {
    if (dims.empty() && x.dim(i) < 0) {  // might or might not be squeezed
      c->set_output(0, PartialShape::UnknownRank());
      return absl::OkStatus();
    }
    bool squeeze = dims.empty() ? x.dim(i) == 1 : drop[i];
    if (!squeeze) out.AddDim(x.dim(i));
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status FillShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(1, 0));
  c->set_output(0, c->ShapeFromShapeTensor(0));
  return absl::OkStatus();
}

absl::Status SelectShape(InferenceContext* c) {
  auto merged = c->input(1).Merge(c->input(2));
  if (!merged.ok()) {
    return c->InvalidArgument("t and e must have the same shape, got ", c->input(1).DebugString(),
                              " and ", c->input(2).DebugString());
  }
  c->set_output(0, *merged);
  return absl::OkStatus();
}

absl::Status SelectV2Shape(InferenceContext* c) {
  ASSIGN_OR_RETURN(PartialShape te, shape_fn::Broadcast(c->input(1), c->input(2)));
  ASSIGN_OR_RETURN(PartialShape out, shape_fn::Broadcast(c->input(0), te));
  c->set_output(0, out);
  return absl::OkStatus();
}

absl::Status ShapeOfShape(InferenceContext* c) {
  int r = c->input(0).rank();
  c->set_output(0, r < 0 ? PartialShape::UnknownWithRank(1) : PartialShape{r});
  return absl::OkStatus();
}

// --- gradients ------------------------------------------------------------------------

absl::Status PassThroughGrad(GradientContext* g) {
  for (int i = 0; i < g->num_inputs(); ++i) g->SetInputGrad(i, g->grad(i));
  return absl::OkStatus();
}

absl::Status ReshapeGrad(GradientContext* g) {  // Reshape, ExpandDims, Squeeze
  g->SetInputGrad(0, g->Reshape(g->grad(0), g->Shape(g->input(0))));
  return absl::OkStatus();
}

absl::Status TransposeGrad(GradientContext* g) {
  const Tensor* perm = g->input(1).node->constant_value();
  if (perm == nullptr) {
    return absl::UnimplementedError("the gradient of Transpose needs a constant perm");
  }
  std::vector<int64_t> inverse(perm->NumElements());
  for (int64_t i = 0; i < perm->NumElements(); ++i) {
    int64_t p = perm->dtype() == DT_INT32 ? perm->data<int32_t>()[i] : perm->data<int64_t>()[i];
    inverse[p] = i;
  }
  g->SetInputGrad(0, g->Op("Transpose", {g->grad(0), g->IntVector(inverse)}));
  return absl::OkStatus();
}

absl::Status SelectGrad(GradientContext* g) {
  Output c = g->input(0), dy = g->grad(0), zeros = g->ZerosLike(dy);
  g->SetInputGrad(1, g->Op("Select", {c, dy, zeros}));
  g->SetInputGrad(2, g->Op("Select", {c, zeros, dy}));
  return absl::OkStatus();
}

absl::Status SelectV2Grad(GradientContext* g) {
  Output c = g->input(0), dy = g->grad(0), zeros = g->ZerosLike(dy), y = g->output(0);
  g->SetInputGrad(1, g->ReduceToShapeOf(g->Op("SelectV2", {c, dy, zeros}), g->input(1), y, true));
  g->SetInputGrad(2, g->ReduceToShapeOf(g->Op("SelectV2", {c, zeros, dy}), g->input(2), y, true));
  return absl::OkStatus();
}

absl::Status FillGrad(GradientContext* g) {  // the scalar value gets the sum of dy
  Output dy = g->grad(0);
  Output all = g->Op("Range", {g->Const(Tensor::Scalar<int32_t>(0)), g->Op("Rank", {dy}),
                               g->Const(Tensor::Scalar<int32_t>(1))});
  g->SetInputGrad(1, g->Sum(dy, all));
  return absl::OkStatus();
}

absl::Status BroadcastGradientArgsShape(InferenceContext* c) {
  c->set_output(0, PartialShape::UnknownWithRank(1));
  c->set_output(1, PartialShape::UnknownWithRank(1));
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("Const")
    .Output("output: dtype")
    .Attr("value: tensor")
    .Attr("dtype: type")
    .SetShapeFn(ConstShape)
    .Doc("A constant tensor.");

REGISTER_OP("Placeholder")
    .Output("output: dtype")
    .Attr("dtype: type")
    .Attr("shape: shape = { unknown_rank: true }")
    .SetShapeFn(ShapeAttrShape)
    .Doc("A value fed when the graph runs.");

REGISTER_OP("PlaceholderWithDefault")
    .SetGradient(PassThroughGrad)
    .Input("input: dtype")
    .Output("output: dtype")
    .Attr("dtype: type")
    .Attr("shape: shape")
    .SetShapeFn(ShapeAttrShape)
    .Doc("Passes `input` through unless a value is fed.");

REGISTER_OP("Identity")
    .Endpoints({"identity"})
    .SetGradient(PassThroughGrad)
    .Input("input: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("Returns its input.");

REGISTER_OP("IdentityN")
    .SetGradient(PassThroughGrad)
    .Input("input: T")
    .Output("output: T")
    .Attr("T: list(type) >= 1")
    .SetShapeFn(IdentityNShape)
    .Doc("Returns its inputs.");

REGISTER_OP("StopGradient")
    .Endpoints({"stop_gradient"})
    .SetNoGradient()
    .Input("input: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("Returns its input; gradients do not flow through it.");

REGISTER_OP("NoOp").Endpoints({"no_op"}).Doc("Does nothing; a target for control dependencies.");

REGISTER_OP("Reshape")
    .Endpoints({"reshape"})
    .SetGradient(ReshapeGrad)
    .Input("tensor: T")
    .Input("shape: Tshape")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tshape: {int32, int64} = DT_INT32")
    .SetShapeFn(ReshapeShape)
    .Doc("Gives `tensor` a new shape; one dim of `shape` may be -1.");

REGISTER_OP("Transpose")
    .SetGradient(TransposeGrad)
    .Input("x: T")
    .Input("perm: Tperm")
    .Output("y: T")
    .Attr("T: type")
    .Attr("Tperm: {int32, int64} = DT_INT32")
    .SetShapeFn(TransposeShape)
    .Doc("Permutes the dims of `x`: output dim i is input dim perm[i].");

REGISTER_OP("Shape")
    .Input("input: T")
    .Output("output: out_type")
    .Attr("T: type")
    .Attr("out_type: {int32, int64} = DT_INT32")
    .SetShapeFn(ShapeOfShape)
    .Doc("The shape of `input` as a 1-D tensor.");

REGISTER_OP("ShapeN")
    .Input("input: N * T")
    .Output("output: N * out_type")
    .Attr("N: int >= 1")
    .Attr("T: type")
    .Attr("out_type: {int32, int64} = DT_INT32")
    .SetShapeFn(ShapeNShape)
    .Doc("The shapes of N tensors.");

REGISTER_OP("Size")
    .Input("input: T")
    .Output("output: out_type")
    .Attr("T: type")
    .Attr("out_type: {int32, int64} = DT_INT32")
    .SetShapeFn(shape_fn::Scalar)
    .Doc("The number of elements of `input`.");

REGISTER_OP("Rank")
    .Endpoints({"rank"})
    .Input("input: T")
    .Output("output: int32")
    .Attr("T: type")
    .SetShapeFn(shape_fn::Scalar)
    .Doc("The number of dims of `input`.");

REGISTER_OP("ExpandDims")
    .SetGradient(ReshapeGrad)
    .Input("input: T")
    .Input("dim: Tdim")
    .Output("output: T")
    .Attr("T: type")
    .Attr("Tdim: {int32, int64} = DT_INT32")
    .SetShapeFn(ExpandDimsShape)
    .Doc("Inserts a dim of size 1 at index `dim`.");

REGISTER_OP("Squeeze")
    .SetGradient(ReshapeGrad)
    .Input("input: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("squeeze_dims: list(int) >= 0 = []")
    .SetShapeFn(SqueezeShape)
    .Doc("Removes dims of size 1 (all of them, or those in `squeeze_dims`).");

REGISTER_OP("Fill")
    .Endpoints({"fill"})
    .SetGradient(FillGrad)
    .Input("dims: index_type")
    .Input("value: T")
    .Output("output: T")
    .Attr("T: type")
    .Attr("index_type: {int32, int64} = DT_INT32")
    .SetShapeFn(FillShape)
    .Doc("A tensor of shape `dims` filled with the scalar `value`.");

REGISTER_OP("ZerosLike")
    .SetNoGradient()
    .Input("x: T")
    .Output("y: T")
    .Attr("T: type")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("Zeros of the shape and dtype of `x`.");

REGISTER_OP("OnesLike")
    .SetNoGradient()
    .Input("x: T")
    .Output("y: T")
    .Attr("T: type")
    .SetShapeFn(shape_fn::Unchanged)
    .Doc("Ones of the shape and dtype of `x`.");

REGISTER_OP("Where")
    .SetNoGradient()
    .Input("input: T")
    .Output("index: int64")
    .Attr("T: {float, double, int32, int64, uint8, int8, int16, uint16, bool} = DT_BOOL")
    .SetShapeFn(WhereShape)
    .Doc("The coordinates of the true (non-zero) elements of `input`, one row each, in "
         "row-major order: shape [number of true elements, rank of input].");

REGISTER_OP("Select")
    .SetGradient(SelectGrad)
    .Input("condition: bool")
    .Input("t: T")
    .Input("e: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(SelectShape)
    .Doc("t where condition else e; condition matches t's shape or is a vector over dim 0.");

REGISTER_OP("SelectV2")
    .SetGradient(SelectV2Grad)
    .Input("condition: bool")
    .Input("t: T")
    .Input("e: T")
    .Output("output: T")
    .Attr("T: type")
    .SetShapeFn(SelectV2Shape)
    .Doc("t where condition else e, with numpy broadcasting of all three.");

REGISTER_OP("BroadcastGradientArgs")
    .SetNoGradient()
    .Input("s0: T")
    .Input("s1: T")
    .Output("r0: T")
    .Output("r1: T")
    .Attr("T: {int32, int64} = DT_INT32")
    .SetShapeFn(BroadcastGradientArgsShape)
    .Doc("For shapes s0 and s1 broadcast together: the dims to sum each gradient over.");

namespace {

// SpaceToDepth moves block_size x block_size spatial blocks into channels; DepthToSpace
// undoes it. Each is the other's adjoint (a permutation), so each one's gradient is the
// other.
absl::Status SpaceDepthShape(InferenceContext* c, bool to_depth) {
  RETURN_IF_ERROR(c->WithRank(0, 4));
  int64_t block;
  RETURN_IF_ERROR(c->GetAttr("block_size", &block));
  if (block < 2) return c->InvalidArgument("block_size must be at least 2, got ", block);
  std::string format;
  RETURN_IF_ERROR(c->GetAttr("data_format", &format));
  if (format != "NHWC" && format != "NCHW") {
    return c->InvalidArgument("data_format ", format, " is not supported; use NHWC or NCHW");
  }
  const PartialShape& in = c->input(0);
  if (in.unknown_rank()) {
    c->set_output(0, PartialShape::UnknownWithRank(4));
    return absl::OkStatus();
  }
  const bool nchw = format == "NCHW";
  const int h = nchw ? 2 : 1, w = nchw ? 3 : 2, ch = nchw ? 1 : 3;
  PartialShape out = in;
  auto scale = [](int64_t d, int64_t by) { return d < 0 ? d : d * by; };
  if (to_depth) {
    for (int axis : {h, w}) {
      if (in.dim(axis) >= 0 && in.dim(axis) % block != 0) {
        return c->InvalidArgument("the input's spatial dims ", in.DebugString(),
                                  " must be divisible by block_size ", block);
      }
      out.set_dim(axis, in.dim(axis) < 0 ? -1 : in.dim(axis) / block);
    }
    out.set_dim(ch, scale(in.dim(ch), block * block));
  } else {
    if (in.dim(ch) >= 0 && in.dim(ch) % (block * block) != 0) {
      return c->InvalidArgument("the input's depth ", in.dim(ch),
                                " must be divisible by block_size squared (", block * block, ")");
    }
    for (int axis : {h, w}) out.set_dim(axis, scale(in.dim(axis), block));
    out.set_dim(ch, in.dim(ch) < 0 ? -1 : in.dim(ch) / (block * block));
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

std::function<void(OpDefBuilder&)> SpaceDepthDef(bool to_depth) {
  return [to_depth](OpDefBuilder& b) {
    b.SetGradient([to_depth](GradientContext* g) {
       g->SetInputGrad(0, g->Op(to_depth ? "DepthToSpace" : "SpaceToDepth", {g->grad(0)},
                                g->CopyAttrs({"block_size", "data_format"})));
       return absl::OkStatus();
     })
        .Input("input: T")
        .Output("output: T")
        .Attr("T: type")
        .Attr("block_size: int >= 2")
        .Attr("data_format: {'NHWC', 'NCHW', 'NCHW_VECT_C'} = 'NHWC'")
        .SetShapeFn([to_depth](InferenceContext* c) { return SpaceDepthShape(c, to_depth); });
  };
}

}  // namespace

REGISTER_OP("SpaceToDepth")
    .Apply(SpaceDepthDef(true))
    .Doc(
        "Moves each block_size x block_size block of pixels into the channels: output[n, h, w, "
        "(bh * block_size + bw) * C + c] = input[n, h * block_size + bh, w * block_size + bw, c].");
REGISTER_OP("DepthToSpace")
    .Apply(SpaceDepthDef(false))
    .Doc("The inverse of SpaceToDepth: moves channel blocks out into block_size x block_size pixels.");

}  // namespace runnel
