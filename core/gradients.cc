#include "core/gradients.h"

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace runnel {

std::string Output::name() const {
  return index == 0 ? node->name() : absl::StrCat(node->name(), ":", index);
}

GradientContext::GradientContext(Graph* graph, Node* node, std::vector<Output> output_grads,
                                 std::string scope)
    : graph_(graph),
      node_(node),
      grads_(std::move(output_grads)),
      input_grads_(node == nullptr ? 0 : node->num_inputs()),
      scope_(std::move(scope)) {}

Output GradientContext::input(int i) const {
  const Edge* e = node_->input_edge(i);
  return {e->src, e->src_output};
}

std::map<std::string, AttrValue> GradientContext::CopyAttrs(
    std::initializer_list<const char*> names) const {
  std::map<std::string, AttrValue> attrs;
  for (const char* name : names) {
    if (const AttrValue* v = node_->attrs().Find(name)) attrs[name] = *v;
  }
  return attrs;
}

Output GradientContext::grad(int i) {
  if (!grads_[i].valid()) grads_[i] = ZerosLike(output(i));
  return grads_[i];
}

void GradientContext::Fail(const absl::Status& status) {
  if (status_.ok()) status_ = status;
}

std::string GradientContext::UniqueName(const std::string& op) {
  std::string base = absl::StrCat(scope_, "/", op);
  std::string name = base;
  for (int k = 1; graph_->FindNode(name) != nullptr; ++k) name = absl::StrCat(base, "_", k);
  return name;
}

Node* GradientContext::AddNode(const std::string& op, const std::vector<Output>& inputs,
                               std::map<std::string, AttrValue> attrs) {
  if (!status_.ok()) return nullptr;
  NodeDef def;
  def.set_name(UniqueName(op));
  def.set_op(op);
  for (const Output& in : inputs) {
    if (!in.valid()) {
      Fail(absl::InternalError(absl::StrCat("gradient of ", node_->name(), " (",
                                            node_->type_string(), ") used a missing value")));
      return nullptr;
    }
    def.add_input(in.name());
  }
  for (auto& [key, value] : attrs) (*def.mutable_attr())[key] = std::move(value);
  auto node = graph_->AddNode(std::move(def));
  if (!node.ok()) {
    Fail(AppendToMessage(node.status(),
                         absl::StrCat(" (building the gradient of node '", node_->name(), "')")));
    return nullptr;
  }
  return *node;
}

Output GradientContext::Op(const std::string& op, const std::vector<Output>& inputs,
                           std::map<std::string, AttrValue> attrs) {
  return {AddNode(op, inputs, std::move(attrs)), 0};
}

Output GradientContext::Const(const Tensor& value) {
  AttrValue v;
  value.AsProto(v.mutable_tensor());
  return Op("Const", {}, {{"value", v}, {"dtype", MakeAttr(value.dtype())}});
}

Output GradientContext::Scalar(double value, DataType dtype) {
  Tensor t(dtype, TensorShape{});
  if (!VisitDataType(dtype, [&](auto zero) {
        *t.data<decltype(zero)>() = static_cast<decltype(zero)>(value);
      })) {
    Fail(absl::InternalError(absl::StrCat("no scalar of dtype ", DataTypeString(dtype))));
    return {};
  }
  return Const(t);
}

Output GradientContext::IntVector(const std::vector<int64_t>& values) {
  std::vector<int32_t> v(values.begin(), values.end());
  return Const(Tensor::Vector<int32_t>(v));
}

Output GradientContext::Cast(Output a, DataType to) {
  if (a.valid() && a.dtype() == to) return a;
  return Op("Cast", {a}, {{"DstT", MakeAttr(to)}});
}

Output GradientContext::Sum(Output a, Output axes, bool keep_dims) {
  return Op("Sum", {a, axes}, {{"keep_dims", MakeAttr(keep_dims)}});
}

Output GradientContext::ReduceToShapeOf(Output grad, Output x, Output other, bool first) {
  if (!grad.valid() || !x.valid()) return {};
  const PartialShape& sx = x.shape();
  if (sx.IsFullyDefined() && grad.shape().IsFullyDefined() && sx == grad.shape()) return grad;
  Node* args =
      AddNode("BroadcastGradientArgs", first ? std::vector<Output>{Shape(x), Shape(other)}
                                             : std::vector<Output>{Shape(other), Shape(x)});
  if (args == nullptr) return {};
  return Reshape(Sum(grad, {args, first ? 0 : 1}), Shape(x));
}

void GradientContext::SetBroadcastGrads(Output gx, Output gy) {
  Output x = input(0), y = input(1);
  SetInputGrad(0, ReduceToShapeOf(gx, x, y, true));
  SetInputGrad(1, ReduceToShapeOf(gy, y, x, false));
}

namespace {

bool Differentiable(DataType dtype) { return IsFloatingType(BaseType(dtype)); }

using Key = std::pair<int, int>;  // (node id, output index)

absl::StatusOr<std::vector<Output>> BuildGradients(Graph* graph, const std::vector<Output>& ys,
                                                   const std::vector<Output>& xs,
                                                   const std::vector<Output>& grad_ys,
                                                   const std::vector<Output>& stop,
                                                   const std::string& scope) {
  const int n = graph->num_node_ids();
  // Nodes on some path from an x to a y.
  std::vector<bool> from_x(n, false), to_y(n, false);
  for (const Output& x : xs) from_x[x.node->id()] = true;
  for (int id = 0; id < n; ++id) {  // ids are in topological order
    if (!from_x[id]) continue;
    for (const Edge* e : graph->node(id)->out_edges()) {
      if (!e->IsControlEdge()) from_x[e->dst->id()] = true;
    }
  }
  for (const Output& y : ys) to_y[y.node->id()] = true;
  for (int id = n - 1; id >= 0; --id) {
    if (!to_y[id]) continue;
    for (const Edge* e : graph->node(id)->in_edges()) {
      if (!e->IsControlEdge()) to_y[e->src->id()] = true;
    }
  }
  absl::flat_hash_set<int> stopped;
  for (const Output& s : stop) stopped.insert(s.node->id());

  absl::flat_hash_map<Key, std::vector<Output>> pending;
  // Builds the nodes that belong to no single op's gradient: seeds and the final sums.
  GradientContext root(graph, ys.empty() ? nullptr : ys[0].node, {}, scope);
  // Seeds: dys, or ones shaped like each y.
  for (size_t i = 0; i < ys.size(); ++i) {
    Output seed =
        i < grad_ys.size() && grad_ys[i].valid() ? grad_ys[i] : root.Op("OnesLike", {ys[i]});
    RETURN_IF_ERROR(root.status());
    pending[{ys[i].node->id(), ys[i].index}].push_back(seed);
  }
  // The summed gradient of one output, built once.
  absl::flat_hash_map<Key, Output> summed;
  auto sum_of = [&](const Key& key, GradientContext* ctx) -> Output {
    auto it = summed.find(key);
    if (it != summed.end()) return it->second;
    auto p = pending.find(key);
    Output total;
    if (p != pending.end() && !p->second.empty()) {
      total = p->second.size() == 1 ? p->second[0] : ctx->Op("AddN", p->second);
    }
    summed[key] = total;
    return total;
  };

  for (int id = n - 1; id >= 0; --id) {
    if (!from_x[id] || !to_y[id]) continue;
    Node* node = graph->node(id);
    std::string node_scope = absl::StrCat(scope, "/", node->name(), "_grad");
    GradientContext ctx(graph, node, {}, node_scope);
    std::vector<Output> out_grads(node->num_outputs());
    bool any = false;
    for (int i = 0; i < node->num_outputs(); ++i) {
      out_grads[i] = sum_of({id, i}, &ctx);
      any |= out_grads[i].valid();
    }
    RETURN_IF_ERROR(ctx.status());
    // Stop here when nothing flows in, no input needs a gradient, or the caller stops it.
    // (Ops such as StopGradient block gradients through their SetNoGradient function.)
    bool wanted = false;
    for (int i = 0; i < node->num_inputs(); ++i) {
      const Edge* e = node->input_edge(i);
      wanted |= from_x[e->src->id()] && Differentiable(node->input_type(i));
    }
    if (!any || !wanted || stopped.contains(id)) continue;
    const GradientFn& fn = node->op_registration().gradient_fn;
    if (!fn) {
      return absl::UnimplementedError(absl::StrCat("no gradient is defined for op '",
                                                   node->type_string(),
                                                   "', which lies between the "
                                                   "xs and the ys",
                                                   node->ErrorSuffix()));
    }
    GradientContext grad_ctx(graph, node, out_grads, node_scope);
    absl::Status s = fn(&grad_ctx);
    if (s.ok()) s = grad_ctx.status();
    if (!s.ok()) return AppendToMessage(s, node->ErrorSuffix());
    for (int i = 0; i < node->num_inputs(); ++i) {
      Output g = grad_ctx.input_grads()[i];
      if (!g.valid() || !Differentiable(node->input_type(i))) continue;
      const Edge* e = node->input_edge(i);
      if (!from_x[e->src->id()]) continue;
      pending[{e->src->id(), e->src_output}].push_back(g);
    }
  }

  std::vector<Output> result;
  for (const Output& x : xs) result.push_back(sum_of({x.node->id(), x.index}, &root));
  RETURN_IF_ERROR(root.status());
  return result;
}
}  // namespace

absl::StatusOr<std::vector<Output>> AddGradients(Graph* graph, const std::vector<Output>& ys,
                                                 const std::vector<Output>& xs,
                                                 const std::vector<Output>& grad_ys,
                                                 const std::vector<Output>& stop,
                                                 const std::string& scope) {
  const int before = graph->num_node_ids();
  auto grads = BuildGradients(graph, ys, xs, grad_ys, stop, scope);
  if (!grads.ok()) graph->TruncateTo(before);  // all or nothing
  return grads;
}

}  // namespace runnel
