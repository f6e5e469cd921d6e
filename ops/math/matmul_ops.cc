// Matrix products: MatMul, BatchMatMul(V2) and the fused _FusedMatMul.
#include "core/gradients.h"
#include "core/op_registry.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

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

}  // namespace

REGISTER_OP("MatMul")
    .SetGradient(MatMulGrad)
    .Input("a: T")
    .Input("b: T")
    .Output("product: T")
    .Attr("transpose_a: bool = false")
    .Attr("transpose_b: bool = false")
    .Attr("T: {half, bfloat16, float, double, int32, int64}")
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
    .Attr("T: {half, bfloat16, float, double, int32, int64}")
    .Attr("adj_x: bool = false")
    .Attr("adj_y: bool = false")
    .SetShapeFn([](InferenceContext* c) { return BatchMatMulShape(c, /*broadcast=*/false); })
    .Doc("Matrix products over the leading (batch) dims, which must match.");

REGISTER_OP("BatchMatMulV2")
    .SetGradient(BatchMatMulGrad)
    .Input("x: T")
    .Input("y: T")
    .Output("output: T")
    .Attr("T: {half, bfloat16, float, double, int32, int64}")
    .Attr("adj_x: bool = false")
    .Attr("adj_y: bool = false")
    .SetShapeFn([](InferenceContext* c) { return BatchMatMulShape(c, /*broadcast=*/true); })
    .Doc("Matrix products over the leading (batch) dims, with broadcasting.");

}  // namespace runnel
