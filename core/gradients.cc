#include "core/gradients.h"

#include <deque>
#include <map>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/control_flow.h"
#include "core/status.h"

namespace runnel {

std::string Output::name() const {
  return index == 0 ? node->name() : absl::StrCat(node->name(), ":", index);
}

GradientContext::GradientContext(Graph* graph, Node* node, std::vector<Output> output_grads,
                                 std::string scope, GradientFrame* frame)
    : graph_(graph),
      frame_(frame),
      node_(node),
      grads_(std::move(output_grads)),
      input_grads_(node == nullptr ? 0 : node->num_inputs()),
      scope_(std::move(scope)) {
  for (const Output& g : grads_) {
    if (g.valid() && !live_.valid()) live_ = g;
  }
}

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

namespace {

// `base`, or `base_1`, `base_2`, ...: the first name no node of `graph` has.
std::string UniqueNodeName(const Graph& graph, const std::string& base) {
  std::string name = base;
  for (int k = 1; graph.FindNode(name) != nullptr; ++k) name = absl::StrCat(base, "_", k);
  return name;
}

}  // namespace

std::string GradientContext::UniqueName(const std::string& op) {
  return UniqueNodeName(*graph_, absl::StrCat(scope_, "/", op));
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
    Output value = in;
    if (frame_ != nullptr) {
      auto mapped = frame_->Map(in, live_);
      if (!mapped.ok()) {
        Fail(AppendToMessage(mapped.status(), absl::StrCat(" (building the gradient of node '",
                                                           node_->name(), "')")));
        return nullptr;
      }
      value = *mapped;
    }
    def.add_input(value.name());
  }
  if (inputs.empty() && frame_ != nullptr && frame_->pivot() != nullptr) {
    def.add_input("^" + frame_->pivot()->name());
  }
  for (auto& [key, value] : attrs) (*def.mutable_attr())[key] = std::move(value);
  auto node = graph_->AddNode(std::move(def));
  if (!node.ok()) {
    Fail(AppendToMessage(node.status(),
                         absl::StrCat(" (building the gradient of node '", node_->name(), "')")));
    return nullptr;
  }
  if (frame_ != nullptr) frame_->Built(*node);
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

bool IsOp(const Node* node, const char* op) { return node->type_string() == op; }

// The attrs of a Const int32 scalar.
std::map<std::string, AttrValue> Int32Const(int32_t value) {
  AttrValue tensor;
  Tensor::Scalar<int32_t>(value).AsProto(tensor.mutable_tensor());
  return {{"value", tensor}, {"dtype", MakeAttr(DT_INT32)}};
}

// One variable of a while loop: Enter -> Merge (with NextIteration) -> Switch on the
// LoopCond -> Exit, and the body's result that NextIteration carries back.
struct LoopVar {
  Node* enter = nullptr;
  Node* merge = nullptr;
  Node* next = nullptr;
  Node* sw = nullptr;
  Node* exit = nullptr;  // none when nothing reads the final value
};

struct Loop {
  std::vector<LoopVar> vars;
  std::vector<Node*> invariants;  // the Enters with is_constant
  Node* loop_cond = nullptr;
};

absl::StatusOr<Loop> FindLoop(const Graph& graph, const Frames& frames, int frame) {
  Loop loop;
  for (Node* node : graph.nodes()) {
    if (node->id() >= static_cast<int>(frames.of.size()) || frames.of[node->id()] != frame) {
      continue;
    }
    if (IsOp(node, "LoopCond")) loop.loop_cond = node;
    if (!IsOp(node, "Enter")) continue;
    bool constant = false;
    RETURN_IF_ERROR(node->attrs().Get("is_constant", &constant));
    if (constant) {
      loop.invariants.push_back(node);
      continue;
    }
    LoopVar var;
    var.enter = node;
    for (const Edge* e : node->out_edges()) {
      if (!e->IsControlEdge() && IsOp(e->dst, "Merge")) var.merge = e->dst;
    }
    if (var.merge == nullptr || var.merge->num_inputs() != 2) {
      return absl::UnimplementedError(absl::StrCat(
          "cannot differentiate the while loop '", frames.info[frame].name,
          "': loop variable Enter '", node->name(), "' does not feed a two-input Merge"));
    }
    for (int i = 0; i < 2; ++i) {
      Node* src = var.merge->input_edge(i)->src;
      if (IsOp(src, "NextIteration")) var.next = src;
    }
    for (const Edge* e : var.merge->out_edges()) {
      if (!e->IsControlEdge() && IsOp(e->dst, "Switch") &&
          IsOp(e->dst->input_edge(1)->src, "LoopCond")) {
        var.sw = e->dst;
      }
    }
    if (var.next == nullptr || var.sw == nullptr) {
      return absl::UnimplementedError(absl::StrCat(
          "cannot differentiate the while loop '", frames.info[frame].name, "': Merge '",
          var.merge->name(), "' lacks its NextIteration or its Switch on the LoopCond"));
    }
    for (const Edge* e : var.sw->out_edges()) {
      if (e->src_output == 0 && IsOp(e->dst, "Exit")) var.exit = e->dst;
    }
    loop.vars.push_back(var);
  }
  if (loop.loop_cond == nullptr || loop.vars.empty()) {
    return absl::UnimplementedError(absl::StrCat("cannot differentiate the while loop '",
                                                 frames.info[frame].name,
                                                 "': it has no LoopCond or no loop variable"));
  }
  return loop;
}

class GradientBuilder;

// The backward loop of one forward while loop: it runs as many iterations as the forward
// one did, last first. Forward values its ops need come from stacks the forward loop
// pushes one value to per iteration (ordered by the forward loop's counter); values from
// outside the forward loop enter it as invariants.
class LoopGrad : public GradientFrame {
 public:
  LoopGrad(GradientBuilder* builder, int frame, LoopGrad* parent, std::string name)
      : builder_(builder), frame_(frame), parent_(parent), name_(std::move(name)) {}
  absl::StatusOr<Output> Map(Output value, Output live) override;
  Node* pivot() const override { return bwd_pivot; }
  void Built(Node* node) override;

  int frame() const { return frame_; }
  LoopGrad* parent() const { return parent_; }
  const std::string& name() const { return name_; }

  Node* fwd_pivot = nullptr;  // the forward counter's value in each forward iteration
  Node* bwd_pivot = nullptr;  // live in each backward iteration
  Output cond;                // the backward LoopCond
  // The counters' next values, made last, wait for these (ids stay topological); through
  // a ControlTrigger when some may be dead.
  std::vector<Node*> pushes, pops;
  bool some_dead = false;

 private:
  GradientBuilder* builder_;
  const int frame_;
  LoopGrad* const parent_;
  const std::string name_;
  absl::flat_hash_map<std::string, Output> values_;  // forward or outer tensor -> here
};

// Records the nodes built outside loops (the root's gradient).
class RootFrame : public GradientFrame {
 public:
  explicit RootFrame(GradientBuilder* builder) : builder_(builder) {}
  void Built(Node* node) override;

 private:
  GradientBuilder* builder_;
};

class GradientBuilder {
 public:
  GradientBuilder(Graph* graph, std::string scope)
      : graph_(graph), frames_(*graph), scope_(std::move(scope)), root_(this) {}

  absl::StatusOr<std::vector<Output>> Build(const std::vector<Output>& ys,
                                            const std::vector<Output>& xs,
                                            const std::vector<Output>& grad_ys,
                                            const std::vector<Output>& stop);

  // --- used by LoopGrad ---
  absl::StatusOr<Output> MapInto(Output value, LoopGrad* ctx, Output live = {});
  void RecordBuilt(Node* node, LoopGrad* ctx) { built_in_[node->id()] = ctx; }

 private:
  // Backpropagates through the nodes of frame `region`, last first, treating each loop
  // nested in it as one node (BackpropLoop); `ctx` is the backward loop being built
  // (nullptr: the root).
  absl::Status Backprop(int region, LoopGrad* ctx);
  absl::Status BackpropNode(Node* node, LoopGrad* ctx);
  absl::Status BackpropLoop(int frame, LoopGrad* parent);
  Output SumOf(const Key& key, GradientContext* ctx);
  GradientFrame* FrameFor(LoopGrad* ctx) {
    return ctx != nullptr ? static_cast<GradientFrame*>(ctx) : &root_;
  }
  // A node of frame `frame`'s forward loop (or of the root), inputs taken as they are.
  absl::StatusOr<Node*> AddForward(const std::string& op, const std::vector<Output>& inputs,
                                   std::map<std::string, AttrValue> attrs, int frame,
                                   const std::vector<Node*>& controls = {});
  // A node of backward loop `ctx` (nullptr: the root), inputs taken as they are.
  absl::StatusOr<Node*> AddBackward(const std::string& op, const std::vector<Output>& inputs,
                                    std::map<std::string, AttrValue> attrs, LoopGrad* ctx,
                                    const std::vector<Node*>& controls = {});
  absl::StatusOr<Node*> Add(const std::string& op, const std::vector<Output>& inputs,
                            std::map<std::string, AttrValue> attrs,
                            const std::vector<Node*>& controls);
  // `value` (of the root) entered into forward frame `frame` as an invariant.
  absl::StatusOr<Output> EnterForward(Output value, int frame);
  std::map<std::string, AttrValue> EnterAttrs(const std::string& frame_name, bool constant,
                                              int frame);
  // A stack that forward loop ctx->frame() pushes `value` to each iteration; its pop in
  // the backward loop. A value of a tf.cond's branch is pushed only in the iterations that
  // take it; its pop waits for `live` (the gradient's branch) so that it pops in the same
  // ones.
  absl::StatusOr<Output> PushPop(Output value, LoopGrad* ctx, Output live);
  // Whether a forward node may be dead: on a branch of a tf.cond (Switch to Merge).
  bool MaybeDead(const Node* node);
  // A backward loop variable: Enter(init) -> Merge -> Switch on ctx->cond -> Exit; returns
  // {merge, exit, current value}.
  struct BackwardVar {
    Node* merge;
    Output exit, current;
  };
  absl::StatusOr<BackwardVar> AddBackwardVar(Output init, LoopGrad* ctx);
  absl::Status CloseBackwardVar(const BackwardVar& var, Output next, LoopGrad* ctx);
  // Nodes the gradient added are on no path.
  bool FromX(const Node* node) const {
    return node->id() < static_cast<int>(from_x_.size()) && from_x_[node->id()];
  }
  absl::Status CheckNoHiddenPaths() const;
  bool OnPath(const Node* node) const {
    return FromX(node) && node->id() < static_cast<int>(to_y_.size()) && to_y_[node->id()];
  }

  Graph* graph_;
  Frames frames_;
  std::string scope_;
  RootFrame root_;
  std::vector<bool> from_x_, to_y_;
  absl::flat_hash_set<int> stopped_;
  absl::flat_hash_map<Key, std::vector<Output>> pending_;
  absl::flat_hash_map<Key, Output> summed_;
  absl::flat_hash_map<int, LoopGrad*> built_in_;  // gradient node id -> its backward loop
  std::vector<std::unique_ptr<LoopGrad>> loops_;
  absl::flat_hash_map<std::pair<std::string, int>, Output> entered_forward_;
  // The loop structure nodes (Enter, Merge, Switch, LoopCond, Exit, NextIteration) that
  // BackpropLoop handles instead of their gradient functions.
  absl::flat_hash_set<int> loop_structure_;
  absl::flat_hash_map<int, bool> maybe_dead_;
  Node* unlimited_ = nullptr;  // the root's Const -1, the stacks' max_size
};

void RootFrame::Built(Node* node) { builder_->RecordBuilt(node, nullptr); }

void LoopGrad::Built(Node* node) { builder_->RecordBuilt(node, this); }

absl::StatusOr<Output> LoopGrad::Map(Output value, Output live) {
  auto it = values_.find(value.name());
  if (it != values_.end()) return it->second;
  ASSIGN_OR_RETURN(Output mapped, builder_->MapInto(value, this, live));
  values_[value.name()] = mapped;
  return mapped;
}

absl::StatusOr<Node*> GradientBuilder::Add(const std::string& op, const std::vector<Output>& inputs,
                                           std::map<std::string, AttrValue> attrs,
                                           const std::vector<Node*>& controls) {
  NodeDef def;
  def.set_name(UniqueNodeName(*graph_, absl::StrCat(scope_, "/while_grad/", op)));
  def.set_op(op);
  for (const Output& in : inputs) def.add_input(in.name());
  for (Node* c : controls) def.add_input("^" + c->name());
  for (auto& [key, value] : attrs) (*def.mutable_attr())[key] = std::move(value);
  return graph_->AddNode(std::move(def));
}

absl::StatusOr<Node*> GradientBuilder::AddForward(const std::string& op,
                                                  const std::vector<Output>& inputs,
                                                  std::map<std::string, AttrValue> attrs, int frame,
                                                  const std::vector<Node*>& controls) {
  ASSIGN_OR_RETURN(Node * node, Add(op, inputs, std::move(attrs), controls));
  frames_.Record(node, frame);
  return node;
}

absl::StatusOr<Node*> GradientBuilder::AddBackward(const std::string& op,
                                                   const std::vector<Output>& inputs,
                                                   std::map<std::string, AttrValue> attrs,
                                                   LoopGrad* ctx,
                                                   const std::vector<Node*>& controls) {
  ASSIGN_OR_RETURN(Node * node, Add(op, inputs, std::move(attrs), controls));
  RecordBuilt(node, ctx);
  return node;
}

std::map<std::string, AttrValue> GradientBuilder::EnterAttrs(const std::string& frame_name,
                                                             bool constant, int frame) {
  int64_t parallel = 10;
  frames_.info[frame].enter->attrs().Get("parallel_iterations", &parallel).IgnoreError();
  return {{"frame_name", MakeAttr(frame_name)},
          {"is_constant", MakeAttr(constant)},
          {"parallel_iterations", MakeAttr(parallel)}};
}

absl::StatusOr<Output> GradientBuilder::EnterForward(Output value, int frame) {
  if (frame == 0) return value;
  auto key = std::make_pair(value.name(), frame);
  auto it = entered_forward_.find(key);
  if (it != entered_forward_.end()) return it->second;
  ASSIGN_OR_RETURN(Output outer, EnterForward(value, frames_.info[frame].parent));
  ASSIGN_OR_RETURN(
      Node * enter,
      AddForward("Enter", {outer}, EnterAttrs(frames_.info[frame].name, /*constant=*/true, frame),
                 frame));
  entered_forward_[key] = {enter, 0};
  return Output{enter, 0};
}

bool GradientBuilder::MaybeDead(const Node* node) {
  auto it = maybe_dead_.find(node->id());
  if (it != maybe_dead_.end()) return it->second;
  maybe_dead_[node->id()] = false;  // a loop's back edge leads back here: not through it
  bool dead = false;
  if (IsOp(node, "Switch")) {
    dead = !IsOp(node->input_edge(1)->src, "LoopCond");
  } else if (!IsOp(node, "Merge") && !IsOp(node, "Enter") && !IsOp(node, "Exit")) {
    for (const Edge* e : node->in_edges()) dead |= MaybeDead(e->src);
  }
  maybe_dead_[node->id()] = dead;
  return dead;
}

absl::StatusOr<Output> GradientBuilder::PushPop(Output value, LoopGrad* ctx, Output live) {
  const bool maybe_dead = MaybeDead(value.node);
  if (maybe_dead && !live.valid()) {
    return absl::UnimplementedError(absl::StrCat(
        "the gradient inside while loop '", frames_.info[ctx->frame()].name, "' needs ",
        value.name(), ", a value of a tf.cond's branch, outside that branch's gradient"));
  }
  ctx->some_dead |= maybe_dead;
  if (unlimited_ == nullptr) {  // every stack's max_size
    ASSIGN_OR_RETURN(unlimited_, AddBackward("Const", {}, Int32Const(-1), nullptr));
  }
  ASSIGN_OR_RETURN(Node * stack, AddBackward("StackV2", {{unlimited_, 0}},
                                             {{"elem_type", MakeAttr(value.dtype())},
                                              {"stack_name", MakeAttr(value.node->name())}},
                                             nullptr));
  ASSIGN_OR_RETURN(Output forward_handle, EnterForward({stack, 0}, ctx->frame()));
  ASSIGN_OR_RETURN(Node * push, AddForward("StackPushV2", {forward_handle, value}, {}, ctx->frame(),
                                           {ctx->fwd_pivot}));
  ctx->pushes.push_back(push);
  ASSIGN_OR_RETURN(Output backward_handle, ctx->Map({stack, 0}, {}));
  std::vector<Node*> pop_after = {ctx->bwd_pivot};
  if (maybe_dead) {
    // A Switch's control edges are live whichever side it took: wait for its output.
    Node* gate = live.node;
    if (IsOp(gate, "Switch")) {
      ASSIGN_OR_RETURN(gate, AddBackward("Identity", {live}, {}, ctx));
    }
    pop_after.push_back(gate);
  }
  ASSIGN_OR_RETURN(Node * pop,
                   AddBackward("StackPopV2", {backward_handle},
                               {{"elem_type", MakeAttr(value.dtype())}}, ctx, pop_after));
  ctx->pops.push_back(pop);
  RETURN_IF_ERROR(graph_->RefineOutputShape(pop, 0, value.shape()));
  return Output{pop, 0};
}

absl::StatusOr<Output> GradientBuilder::MapInto(Output value, LoopGrad* ctx, Output live) {
  auto enter_here = [&](Output outer) -> absl::StatusOr<Output> {
    ASSIGN_OR_RETURN(Output mapped, MapInto(outer, ctx->parent()));
    ASSIGN_OR_RETURN(Node * enter,
                     AddBackward("Enter", {mapped},
                                 EnterAttrs(ctx->name(), /*constant=*/true, ctx->frame()), ctx));
    return Output{enter, 0};
  };
  if (ctx == nullptr) return value;
  auto built = built_in_.find(value.node->id());
  if (built != built_in_.end()) {
    if (built->second == ctx) return value;
    for (LoopGrad* outer = ctx->parent(); outer != nullptr; outer = outer->parent()) {
      if (outer == built->second) return enter_here(value);
    }
    if (built->second == nullptr) return enter_here(value);
    return absl::InternalError(
        absl::StrCat("gradient value ", value.name(), " is used in another loop's gradient"));
  }
  const int frame = frames_.ValueFrame(value.node);
  if (frame == ctx->frame()) {
    if (IsOp(value.node, "Enter") && frames_.of[value.node->id()] == ctx->frame()) {
      bool constant = false;
      value.node->attrs().Get("is_constant", &constant).IgnoreError();
      if (constant) {
        const Edge* in = value.node->input_edge(0);
        return enter_here({in->src, in->src_output});
      }
    }
    return PushPop(value, ctx, live);
  }
  if (frames_.Within(ctx->frame(), frame)) return enter_here(value);
  return absl::UnimplementedError(absl::StrCat("the gradient inside while loop '",
                                               frames_.info[ctx->frame()].name, "' needs ",
                                               value.name(), ", a value of another loop"));
}

Output GradientBuilder::SumOf(const Key& key, GradientContext* ctx) {
  auto it = summed_.find(key);
  if (it != summed_.end()) return it->second;
  auto p = pending_.find(key);
  Output total;
  if (p != pending_.end() && !p->second.empty()) {
    total = p->second.size() == 1 ? p->second[0] : ctx->Op("AddN", p->second);
  }
  summed_[key] = total;
  return total;
}

absl::Status GradientBuilder::BackpropNode(Node* node, LoopGrad* ctx) {
  if (!OnPath(node) || loop_structure_.contains(node->id())) return absl::OkStatus();
  const int id = node->id();
  std::string node_scope = absl::StrCat(scope_, "/", node->name(), "_grad");
  GradientContext ctx_sum(graph_, node, {}, node_scope, FrameFor(ctx));
  std::vector<Output> out_grads(node->num_outputs());
  bool any = false;
  for (int i = 0; i < node->num_outputs(); ++i) {
    out_grads[i] = SumOf({id, i}, &ctx_sum);
    any |= out_grads[i].valid();
  }
  RETURN_IF_ERROR(ctx_sum.status());
  // Stop here when nothing flows in, no input needs a gradient, or the caller stops it.
  // (Ops such as StopGradient block gradients through their SetNoGradient function.)
  bool wanted = false;
  for (int i = 0; i < node->num_inputs(); ++i) {
    const Edge* e = node->input_edge(i);
    wanted |= FromX(e->src) && Differentiable(node->input_type(i));
  }
  if (!any || !wanted || stopped_.contains(id)) return absl::OkStatus();
  const GradientFn& fn = node->op_registration().gradient_fn;
  if (!fn) {
    return absl::UnimplementedError(absl::StrCat("no gradient is defined for op '",
                                                 node->type_string(),
                                                 "', which lies between the "
                                                 "xs and the ys",
                                                 node->ErrorSuffix()));
  }
  GradientContext grad_ctx(graph_, node, out_grads, node_scope, FrameFor(ctx));
  grad_ctx.set_gradient_scope(scope_);
  absl::Status s = fn(&grad_ctx);
  if (s.ok()) s = grad_ctx.status();
  if (!s.ok()) return AppendToMessage(s, node->ErrorSuffix());
  for (int i = 0; i < node->num_inputs(); ++i) {
    Output g = grad_ctx.input_grads()[i];
    if (!g.valid() || !Differentiable(node->input_type(i))) continue;
    const Edge* e = node->input_edge(i);
    if (!FromX(e->src)) continue;
    pending_[{e->src->id(), e->src_output}].push_back(g);
  }
  return absl::OkStatus();
}

absl::Status GradientBuilder::Backprop(int region, LoopGrad* ctx) {
  // Units: the region's nodes, and each loop nested in it as one (-frame - 1). Ordered
  // so that each comes after what feeds it, a loop's back edges left out.
  const int n = graph_->num_node_ids();
  auto unit_of = [&](const Node* node) -> int {
    if (node->id() >= static_cast<int>(frames_.of.size())) return INT32_MIN;
    const int frame = frames_.of[node->id()];
    if (frame == region) return node->id();
    const int child = frames_.ChildOf(region, frame);
    return child < 0 ? INT32_MIN : -child - 1;
  };
  absl::flat_hash_map<int, int> in_degree;
  absl::flat_hash_map<int, std::vector<int>> successors;
  std::vector<int> units;
  absl::flat_hash_set<int> seen;
  for (int id = 0; id < n; ++id) {
    Node* node = graph_->node(id);
    if (node == nullptr || built_in_.contains(id)) continue;
    const int u = unit_of(node);
    if (u == INT32_MIN) continue;
    if (seen.insert(u).second) units.push_back(u);
    for (const Edge* e : node->out_edges()) {
      if (e->IsControlEdge() || built_in_.contains(e->dst->id())) continue;
      if (IsOp(node, "NextIteration") && IsOp(e->dst, "Merge")) continue;  // a back edge
      const int v = unit_of(e->dst);
      if (v == INT32_MIN || v == u) continue;
      successors[u].push_back(v);
      ++in_degree[v];
    }
  }
  std::vector<int> order;
  std::deque<int> ready;
  for (int u : units) {
    if (in_degree[u] == 0) ready.push_back(u);
  }
  while (!ready.empty()) {
    const int u = ready.front();
    ready.pop_front();
    order.push_back(u);
    for (int v : successors[u]) {
      if (--in_degree[v] == 0) ready.push_back(v);
    }
  }
  if (order.size() != units.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the graph has a cycle that is not a while loop's",
        region == 0 ? "" : absl::StrCat(" (in loop '", frames_.info[region].name, "')")));
  }
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    if (*it >= 0) {
      RETURN_IF_ERROR(BackpropNode(graph_->node(*it), ctx));
    } else {
      RETURN_IF_ERROR(BackpropLoop(-*it - 1, ctx));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<GradientBuilder::BackwardVar> GradientBuilder::AddBackwardVar(Output init,
                                                                             LoopGrad* ctx) {
  ASSIGN_OR_RETURN(
      Node * enter,
      AddBackward("Enter", {init}, EnterAttrs(ctx->name(), /*constant=*/false, ctx->frame()), ctx));
  ASSIGN_OR_RETURN(Node * merge, AddBackward("Merge", {{enter, 0}, {enter, 0}}, {}, ctx));
  Output cond = ctx->cond.valid() ? ctx->cond : Output{};
  if (!cond.valid()) return BackwardVar{merge, {}, {merge, 0}};  // the counter's own
  ASSIGN_OR_RETURN(Node * sw, AddBackward("Switch", {{merge, 0}, cond}, {}, ctx));
  ASSIGN_OR_RETURN(Node * exit, AddBackward("Exit", {{sw, 0}}, {}, ctx));
  RecordBuilt(exit, ctx->parent());  // its value is the enclosing frame's
  ASSIGN_OR_RETURN(Node * current, AddBackward("Identity", {{sw, 1}}, {}, ctx));
  return BackwardVar{merge, {exit, 0}, {current, 0}};
}

absl::Status GradientBuilder::CloseBackwardVar(const BackwardVar& var, Output next, LoopGrad* ctx) {
  ASSIGN_OR_RETURN(Node * next_iteration, AddBackward("NextIteration", {next}, {}, ctx));
  return graph_->UpdateInput(var.merge, 1, next_iteration, 0);
}

absl::Status GradientBuilder::BackpropLoop(int frame, LoopGrad* parent) {
  ASSIGN_OR_RETURN(Loop loop, FindLoop(*graph_, frames_, frame));
  for (const LoopVar& var : loop.vars) {
    for (Node* node : {var.enter, var.merge, var.next, var.sw, var.exit}) {
      if (node != nullptr) loop_structure_.insert(node->id());
    }
  }
  loop_structure_.insert(loop.loop_cond->id());
  for (Node* c : loop.invariants) loop_structure_.insert(c->id());
  // The loop variables the gradient carries: the float ones between the xs and the ys.
  std::vector<const LoopVar*> carried;
  bool any_exit_grad = false;
  for (const LoopVar& var : loop.vars) {
    if (!Differentiable(var.enter->output_type(0)) || !OnPath(var.merge)) continue;
    carried.push_back(&var);
    if (var.exit != nullptr) any_exit_grad |= pending_.contains({var.exit->id(), 0});
  }
  if (carried.empty() || !any_exit_grad) return absl::OkStatus();

  const Frames::Info& info = frames_.info[frame];
  const int outer = info.parent;
  auto ctx_owner = std::make_unique<LoopGrad>(
      this, frame, parent,
      UniqueNodeName(*graph_,
                     absl::StrCat(scope_, "/", info.name.empty() ? "while" : info.name, "_grad")));
  LoopGrad* ctx = ctx_owner.get();
  loops_.push_back(std::move(ctx_owner));

  // The forward loop counts its iterations; each iteration's pushes wait for its count
  // and the next count waits for them, so the pushes keep the iterations' order.
  const Edge* first_in = loop.vars[0].enter->input_edge(0);
  ASSIGN_OR_RETURN(Node * zero, AddForward("Const", {}, Int32Const(0), outer, {first_in->src}));
  ASSIGN_OR_RETURN(Node * count_enter,
                   AddForward("Enter", {{zero, 0}}, EnterAttrs(info.name, false, frame), frame));
  ASSIGN_OR_RETURN(Node * count_merge,
                   AddForward("Merge", {{count_enter, 0}, {count_enter, 0}}, {}, frame));
  ASSIGN_OR_RETURN(Node * count_switch,
                   AddForward("Switch", {{count_merge, 0}, {loop.loop_cond, 0}}, {}, frame));
  ASSIGN_OR_RETURN(Node * count_exit, AddForward("Exit", {{count_switch, 0}}, {}, frame));
  ASSIGN_OR_RETURN(Node * count, AddForward("Identity", {{count_switch, 1}}, {}, frame));
  ctx->fwd_pivot = count;

  // The backward loop counts down from the forward loop's count; each iteration's pops
  // wait for its count and the next count waits for them.
  ASSIGN_OR_RETURN(Output iterations, MapInto({count_exit, 0}, parent));
  ASSIGN_OR_RETURN(BackwardVar left, AddBackwardVar(iterations, ctx));
  ASSIGN_OR_RETURN(Node * bzero, AddBackward("Const", {}, Int32Const(0), ctx, {left.merge}));
  ASSIGN_OR_RETURN(Node * more, AddBackward("Greater", {{left.merge, 0}, {bzero, 0}}, {}, ctx));
  ASSIGN_OR_RETURN(Node * cond, AddBackward("LoopCond", {{more, 0}}, {}, ctx));
  ctx->cond = {cond, 0};
  ASSIGN_OR_RETURN(Node * left_switch,
                   AddBackward("Switch", {{left.merge, 0}, {cond, 0}}, {}, ctx));
  RETURN_IF_ERROR(AddBackward("Exit", {{left_switch, 0}}, {}, ctx).status());
  ASSIGN_OR_RETURN(Node * pivot, AddBackward("Identity", {{left_switch, 1}}, {}, ctx));
  ctx->bwd_pivot = pivot;

  // Each carried variable's gradient: from its Exit's, back through the body each
  // iteration, out to its Enter's input.
  GradientContext outer_ctx(graph_, loop.vars[0].enter, {}, scope_, FrameFor(parent));
  std::vector<BackwardVar> grads;
  for (const LoopVar* var : carried) {
    Output init;
    if (var->exit != nullptr) init = SumOf({var->exit->id(), 0}, &outer_ctx);
    if (!init.valid()) {
      const Edge* in = var->enter->input_edge(0);
      init = outer_ctx.ZerosLike({in->src, in->src_output});
    }
    RETURN_IF_ERROR(outer_ctx.status());
    ASSIGN_OR_RETURN(BackwardVar g, AddBackwardVar(init, ctx));
    const Edge* body_out = var->next->input_edge(0);
    pending_[{body_out->src->id(), body_out->src_output}].push_back(g.current);
    grads.push_back(g);
  }
  RETURN_IF_ERROR(Backprop(frame, ctx));
  GradientContext inner_ctx(graph_, loop.vars[0].merge, {}, scope_, ctx);
  for (size_t k = 0; k < carried.size(); ++k) {
    Output previous = SumOf({carried[k]->sw->id(), 1}, &inner_ctx);
    if (!previous.valid()) previous = inner_ctx.ZerosLike(grads[k].current);
    RETURN_IF_ERROR(inner_ctx.status());
    RETURN_IF_ERROR(CloseBackwardVar(grads[k], previous, ctx));
    const Edge* in = carried[k]->enter->input_edge(0);
    if (FromX(in->src)) pending_[{in->src->id(), in->src_output}].push_back(grads[k].exit);
  }
  // The invariants' gradients add up over the iterations.
  for (Node* invariant : loop.invariants) {
    const Edge* in = invariant->input_edge(0);
    if (!Differentiable(invariant->output_type(0)) || !FromX(in->src)) continue;
    Output g = SumOf({invariant->id(), 0}, &inner_ctx);
    if (!g.valid()) continue;
    Output zeros = outer_ctx.ZerosLike({in->src, in->src_output});
    RETURN_IF_ERROR(outer_ctx.status());
    ASSIGN_OR_RETURN(BackwardVar total, AddBackwardVar(zeros, ctx));
    Output sum = inner_ctx.Add(total.current, g);
    RETURN_IF_ERROR(inner_ctx.status());
    RETURN_IF_ERROR(CloseBackwardVar(total, sum, ctx));
    pending_[{in->src->id(), in->src_output}].push_back(total.exit);
  }
  // Last, the counters' next values, after the iteration's pushes (pops).
  ASSIGN_OR_RETURN(Node * one, AddForward("Const", {}, Int32Const(1), frame, {count}));
  if (ctx->some_dead) {
    ASSIGN_OR_RETURN(Node * pushed, AddForward("ControlTrigger", {}, {}, frame, ctx->pushes));
    ctx->pushes = {pushed};
    ASSIGN_OR_RETURN(Node * popped, AddBackward("ControlTrigger", {}, {}, ctx, ctx->pops));
    ctx->pops = {popped};
  }
  ASSIGN_OR_RETURN(Node * increment,
                   AddForward("AddV2", {{count, 0}, {one, 0}}, {}, frame, ctx->pushes));
  ASSIGN_OR_RETURN(Node * count_next, AddForward("NextIteration", {{increment, 0}}, {}, frame));
  RETURN_IF_ERROR(graph_->UpdateInput(count_merge, 1, count_next, 0));
  ASSIGN_OR_RETURN(Node * bone, AddBackward("Const", {}, Int32Const(1), ctx, {pivot}));
  ASSIGN_OR_RETURN(Node * decrement,
                   AddBackward("Sub", {{pivot, 0}, {bone, 0}}, {}, ctx, ctx->pops));
  return CloseBackwardVar(left, {decrement, 0}, ctx);
}

// A stack carries values from its pushes to its pops without a graph edge, so a y reached
// from an x only that way (the gradient of a loop's gradient) would get a gradient of zero.
absl::Status GradientBuilder::CheckNoHiddenPaths() const {
  auto stack_of = [](const Node* node) {  // through the Enters to the StackV2
    const Node* handle = node->input_edge(0)->src;
    while (IsOp(handle, "Enter")) handle = handle->input_edge(0)->src;
    return handle->id();
  };
  absl::flat_hash_set<int> pushed_from_x;
  for (Node* node : graph_->nodes()) {
    if (IsOp(node, "StackPushV2") && FromX(node->input_edge(1)->src)) {
      pushed_from_x.insert(stack_of(node));
    }
  }
  for (Node* node : graph_->nodes()) {
    if (IsOp(node, "StackPopV2") && node->id() < static_cast<int>(to_y_.size()) &&
        to_y_[node->id()] && pushed_from_x.contains(stack_of(node))) {
      return absl::UnimplementedError(absl::StrCat(
          "the gradient of a while loop's gradient (a second derivative through a loop) is "
          "not supported yet: the ys depend on the xs through the stack popped by '",
          node->name(), "'"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Output>> GradientBuilder::Build(const std::vector<Output>& ys,
                                                           const std::vector<Output>& xs,
                                                           const std::vector<Output>& grad_ys,
                                                           const std::vector<Output>& stop) {
  const int n = graph_->num_node_ids();
  // Nodes on some path from an x to a y (loops' back edges included).
  from_x_.assign(n, false);
  to_y_.assign(n, false);
  std::deque<Node*> queue;
  for (const Output& x : xs) {
    if (!from_x_[x.node->id()]) queue.push_back(x.node);
    from_x_[x.node->id()] = true;
  }
  while (!queue.empty()) {
    Node* node = queue.front();
    queue.pop_front();
    for (const Edge* e : node->out_edges()) {
      if (e->IsControlEdge() || from_x_[e->dst->id()]) continue;
      from_x_[e->dst->id()] = true;
      queue.push_back(e->dst);
    }
  }
  for (const Output& y : ys) {
    if (!to_y_[y.node->id()]) queue.push_back(y.node);
    to_y_[y.node->id()] = true;
  }
  while (!queue.empty()) {
    Node* node = queue.front();
    queue.pop_front();
    for (const Edge* e : node->in_edges()) {
      if (e->IsControlEdge() || to_y_[e->src->id()]) continue;
      to_y_[e->src->id()] = true;
      queue.push_back(e->src);
    }
  }
  for (const Output& s : stop) stopped_.insert(s.node->id());
  RETURN_IF_ERROR(CheckNoHiddenPaths());

  // Builds the nodes that belong to no single op's gradient: seeds and the final sums.
  GradientContext root(graph_, ys.empty() ? nullptr : ys[0].node, {}, scope_, &root_);
  // Seeds: dys, or ones shaped like each y.
  int region = -1;
  for (size_t i = 0; i < ys.size(); ++i) {
    Output seed =
        i < grad_ys.size() && grad_ys[i].valid() ? grad_ys[i] : root.Op("OnesLike", {ys[i]});
    RETURN_IF_ERROR(root.status());
    pending_[{ys[i].node->id(), ys[i].index}].push_back(seed);
    const int frame = frames_.ValueFrame(ys[i].node);
    if (region >= 0 && frame != region) {
      return absl::UnimplementedError(
          "tf.gradients of ys in different while loops (or some in one, some outside)");
    }
    region = frame;
  }
  // Inside a loop's body (ys there), the gradient stays within the iteration.
  RETURN_IF_ERROR(Backprop(std::max(region, 0), nullptr));
  std::vector<Output> result;
  for (const Output& x : xs) result.push_back(SumOf({x.node->id(), x.index}, &root));
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
  auto grads = GradientBuilder(graph, scope).Build(ys, xs, grad_ys, stop);
  if (!grads.ok()) graph->TruncateTo(before);  // all or nothing
  return grads;
}

}  // namespace runnel
