#include "core/graph.h"

#include <deque>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_join.h"
#include "core/status.h"

namespace runnel {
namespace {

constexpr int64_t kMaxConstantValueElements = 1 << 16;

// A constant's value proto without its contents: the dtype and shape its def keeps when the
// contents are held elsewhere (attached, or by the kernel).
TensorProto Shell(const TensorProto& proto) {
  TensorProto shell;
  shell.set_dtype(proto.dtype());
  *shell.mutable_tensor_shape() = proto.tensor_shape();
  return shell;
}

absl::Status WithNode(const absl::Status& s, const std::string& name, const std::string& op) {
  return AppendToMessage(s, absl::StrCat(" [[node ", name, " (", op, ")]]"));
}

}  // namespace

std::string Node::ErrorSuffix() const {
  return absl::StrCat(" [[node ", name(), " (", type_string(), ")]]");
}

std::string TensorId::ToString() const {
  if (port == kControlSlot) return "^" + node;
  return port == 0 ? node : absl::StrCat(node, ":", port);
}

absl::StatusOr<TensorId> ParseTensorName(const std::string& input) {
  TensorId id;
  if (!input.empty() && input[0] == '^') {
    id.node = input.substr(1);
    id.port = kControlSlot;
  } else {
    size_t colon = input.rfind(':');
    int port;
    if (colon != std::string::npos && absl::SimpleAtoi(input.substr(colon + 1), &port)) {
      if (port < 0) return absl::InvalidArgumentError(absl::StrCat("bad port in '", input, "'"));
      id.node = input.substr(0, colon);
      id.port = port;
    } else {
      id.node = input;
    }
  }
  if (id.node.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("bad tensor name '", input, "'"));
  }
  return id;
}

Graph::Graph(GraphBuildOptions options) : options_(options) {
  versions_.set_producer(kGraphDefProducerVersion);
}
Graph::~Graph() = default;

absl::StatusOr<std::unique_ptr<Graph>> Graph::FromGraphDef(const GraphDef& def,
                                                           GraphBuildOptions options) {
  auto graph = std::make_unique<Graph>(options);
  RETURN_IF_ERROR(graph->Extend(def));
  if (def.has_versions()) graph->versions_ = def.versions();
  graph->library_ = def.library();
  return graph;
}

absl::StatusOr<std::unique_ptr<Graph>> Graph::FromGraphDefTakingWeights(GraphDef def,
                                                                        GraphBuildOptions options) {
  std::vector<std::pair<std::string, Tensor>> weights = TakeLargeConstants(&def, kAttachBytes);
  ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph, FromGraphDef(def, options));
  GraphDef().Swap(&def);  // freed now (Clear would keep its strings' capacity)
  for (auto& [name, value] : weights) {
    RETURN_IF_ERROR(graph->AttachConstantValue(name, std::move(value)));
  }
  return graph;
}

absl::Status Graph::Extend(const GraphDef& def) {
  // Order the new nodes so that every node comes after its inputs (Kahn's algorithm);
  // what is left over lies on a cycle.
  const int n = def.node_size();
  absl::flat_hash_map<std::string, int> index;
  for (int i = 0; i < n; ++i) {
    const NodeDef& nd = def.node(i);
    if (nd.name().empty()) {
      return absl::InvalidArgumentError(absl::StrCat("node #", i, " (", nd.op(), ") has no name"));
    }
    if (!index.emplace(nd.name(), i).second || by_name_.contains(nd.name())) {
      return WithNode(
          absl::InvalidArgumentError(absl::StrCat("duplicate node name '", nd.name(), "'")),
          nd.name(), nd.op());
    }
  }
  std::vector<std::vector<int>> consumers(n);
  std::vector<int> pending(n, 0);
  // A loop's back edges (NextIteration -> Merge) are the only cycles allowed; the order
  // leaves them out (AddNode sets them once the NextIteration is in).
  for (int i = 0; i < n; ++i) {
    const NodeDef& nd = def.node(i);
    for (int k = 0; k < nd.input_size(); ++k) {
      const std::string& input = nd.input(k);
      auto id = ParseTensorName(input);
      if (!id.ok()) return WithNode(id.status(), nd.name(), nd.op());
      auto it = index.find(id->node);
      if (it != index.end() && nd.op() == "Merge" && k > 0 && id->port >= 0 &&
          def.node(it->second).op() == "NextIteration") {
        continue;
      } else if (it != index.end()) {
        consumers[it->second].push_back(i);
        ++pending[i];
      } else if (!by_name_.contains(id->node)) {
        return WithNode(
            absl::InvalidArgumentError(absl::StrCat("input '", input, "' names node '", id->node,
                                                    "', which is not in the graph")),
            nd.name(), nd.op());
      }
    }
  }
  std::deque<int> ready;
  for (int i = 0; i < n; ++i) {
    if (pending[i] == 0) ready.push_back(i);
  }
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    order.push_back(i);
    for (int c : consumers[i]) {
      if (--pending[c] == 0) ready.push_back(c);
    }
  }
  if (static_cast<int>(order.size()) != n) {
    // Walk inputs among the left-over nodes until one repeats: that is a cycle.
    int start = 0;
    while (pending[start] == 0) ++start;
    std::vector<int> path;
    absl::flat_hash_map<int, size_t> seen;
    int cur = start;
    while (!seen.contains(cur)) {
      seen[cur] = path.size();
      path.push_back(cur);
      for (const std::string& input : def.node(cur).input()) {
        auto it = index.find(ParseTensorName(input)->node);
        if (it != index.end() && pending[it->second] > 0) {
          cur = it->second;
          break;
        }
      }
    }
    std::vector<std::string> names;
    for (size_t k = seen[cur]; k < path.size(); ++k) names.push_back(def.node(path[k]).name());
    names.push_back(def.node(cur).name());
    std::reverse(names.begin(), names.end());
    return WithNode(absl::InvalidArgumentError(
                        absl::StrCat("graph has a cycle: ", absl::StrJoin(names, " -> "))),
                    def.node(cur).name(), def.node(cur).op());
  }
  const int old_size = num_node_ids();
  for (int i : order) {
    auto added = AddNode(def.node(i));  // a back edge is set when its NextIteration comes
    if (!added.ok()) {
      TruncateTo(old_size);
      return added.status();
    }
  }
  return absl::OkStatus();
}

void Graph::DecodeSmallConstant(Node* node) {
  const TensorProto* proto;
  if (node->type_string() != "Const" || node->constant_value_ != nullptr ||
      !node->attrs().Get("value", &proto).ok() ||
      PartialShape::FromProto(proto->tensor_shape()).num_elements() > kMaxConstantValueElements) {
    return;
  }
  if (node->attached_value_ != nullptr) {  // its def holds no contents
    node->constant_value_ = std::make_unique<Tensor>(*node->attached_value_);
    return;
  }
  auto value = Tensor::FromProto(*proto);
  if (value.ok()) node->constant_value_ = std::make_unique<Tensor>(*std::move(value));
}

absl::Status Graph::InferShapes() {
  options_.infer_shapes = true;
  for (Node* node : TopologicalOrder()) {
    DecodeSmallConstant(node);
    absl::Status s = InferShapes(node);
    if (!s.ok()) return AppendToMessage(s, node->ErrorSuffix());
  }
  return absl::OkStatus();
}

absl::StatusOr<Node*> Graph::AddNode(NodeDef def) {
  if (def.name().empty()) {
    return absl::InvalidArgumentError(absl::StrCat("a node of op ", def.op(), " has no name"));
  }
  if (by_name_.contains(def.name())) {
    return WithNode(
        absl::InvalidArgumentError(absl::StrCat("duplicate node name '", def.name(), "'")),
        def.name(), def.op());
  }
  auto reg = OpRegistry::Global()->LookUp(def.op());
  if (!reg.ok()) return WithNode(reg.status(), def.name(), def.op());
  // A Merge's later input from a NextIteration not yet added is a loop's back edge: the
  // Merge reads its first input there until the NextIteration comes.
  std::vector<std::pair<int, TensorId>> deferred;
  if (def.op() == "Merge") {
    for (int k = 1; k < def.input_size(); ++k) {
      auto id = ParseTensorName(def.input(k));
      if (id.ok() && id->port >= 0 && FindNode(id->node) == nullptr) {
        deferred.emplace_back(k, *id);
        def.set_input(k, def.input(0));
      }
    }
  }
  auto node = std::make_unique<Node>();
  node->def_ = std::move(def);
  node->reg_ = *reg;
  std::vector<std::pair<Node*, int>> data_inputs;
  std::vector<Node*> control_inputs;
  absl::Status s = Validate(node.get(), &data_inputs, &control_inputs);
  if (!s.ok()) return AppendToMessage(s, node->ErrorSuffix());
  node->output_shapes_.assign(node->num_outputs(), PartialShape::UnknownRank());
  Node* raw = node.get();
  raw->id_ = num_node_ids();
  nodes_.push_back(std::move(node));
  ++num_live_;
  by_name_[raw->name()] = raw;
  Connect(raw, data_inputs, control_inputs);
  if (options_.infer_shapes) {
    DecodeSmallConstant(raw);
    s = InferShapes(raw);
    if (!s.ok()) {
      s = AppendToMessage(s, raw->ErrorSuffix());
      TruncateTo(raw->id());  // destroys `raw`
      return s;
    }
  }
  for (auto& [k, id] : deferred) waiting_back_edges_[id.node].push_back({raw, k, id.port});
  auto waiting = waiting_back_edges_.find(raw->name());
  if (waiting != waiting_back_edges_.end()) {
    if (raw->type_string() != "NextIteration") {
      return WithNode(absl::InvalidArgumentError(absl::StrCat(
                          "a Merge's input comes from '", raw->name(), "', a ", raw->type_string(),
                          " added after it: only a loop's NextIteration "
                          "may close a cycle")),
                      waiting->second.front().merge->name(), "Merge");
    }
    for (const BackEdge& b : waiting->second) {
      RETURN_IF_ERROR(UpdateInput(b.merge, b.input, raw, b.port));
    }
    waiting_back_edges_.erase(waiting);
  }
  return raw;
}

absl::Status Graph::CheckBackEdges() const {
  if (waiting_back_edges_.empty()) return absl::OkStatus();
  const auto& [name, edges] = *waiting_back_edges_.begin();
  return WithNode(
      absl::InvalidArgumentError(absl::StrCat("input ", edges.front().input, " names node '", name,
                                              "', which is not in the graph")),
      edges.front().merge->name(), "Merge");
}

namespace {

// Expands the op's input or output args into a flat dtype list using the node's attrs.
absl::Status ExpandArgs(const google::protobuf::RepeatedPtrField<OpDef::ArgDef>& args,
                        const AttrSlice& attrs, std::vector<DataType>* types) {
  for (const auto& arg : args) {
    if (!arg.type_list_attr().empty()) {
      std::vector<DataType> list;
      RETURN_IF_ERROR(attrs.Get(arg.type_list_attr(), &list));
      types->insert(types->end(), list.begin(), list.end());
      continue;
    }
    DataType dtype = arg.type();
    if (!arg.type_attr().empty()) RETURN_IF_ERROR(attrs.Get(arg.type_attr(), &dtype));
    int64_t count = 1;
    if (!arg.number_attr().empty()) RETURN_IF_ERROR(attrs.Get(arg.number_attr(), &count));
    if (arg.is_ref()) dtype = static_cast<DataType>(dtype + 100);
    types->insert(types->end(), count, dtype);
  }
  return absl::OkStatus();
}

// Sets type attrs, and the length attrs of list args, that the node leaves out, from the
// dtypes of its inputs.
absl::Status InferTypeAttrs(const OpDef& op, const std::vector<DataType>& input_dtypes,
                            NodeDef* def) {
  auto& attrs = *def->mutable_attr();
  int unknown_lengths = 0;
  int known = 0;
  for (const auto& arg : op.input_arg()) {
    if (!arg.number_attr().empty()) {
      auto it = attrs.find(arg.number_attr());
      if (it == attrs.end())
        ++unknown_lengths;
      else
        known += it->second.i();
    } else if (!arg.type_list_attr().empty()) {
      auto it = attrs.find(arg.type_list_attr());
      if (it == attrs.end())
        ++unknown_lengths;
      else
        known += it->second.list().type_size();
    } else {
      ++known;
    }
  }
  if (unknown_lengths > 1) {
    return absl::InvalidArgumentError("cannot tell which inputs belong to which list argument");
  }
  const int total = static_cast<int>(input_dtypes.size());
  int pos = 0;
  for (const auto& arg : op.input_arg()) {
    int count = 1;
    if (!arg.number_attr().empty()) {
      auto it = attrs.find(arg.number_attr());
      count = it != attrs.end() ? static_cast<int>(it->second.i()) : total - known;
      if (it == attrs.end()) attrs[arg.number_attr()] = MakeAttr(int64_t{count});
    } else if (!arg.type_list_attr().empty()) {
      auto it = attrs.find(arg.type_list_attr());
      if (it != attrs.end()) {
        count = it->second.list().type_size();
      } else {
        count = total - known;
        std::vector<DataType> list;
        for (int k = pos; k < pos + count && k < total; ++k)
          list.push_back(BaseType(input_dtypes[k]));
        attrs[arg.type_list_attr()] = MakeAttr(list);
      }
    }
    if (!arg.type_attr().empty() && !attrs.contains(arg.type_attr()) && count > 0 && pos < total) {
      attrs[arg.type_attr()] = MakeAttr(BaseType(input_dtypes[pos]));
    }
    pos += std::max(count, 0);
  }
  return absl::OkStatus();
}

absl::Status CheckAttrs(const OpDef& op, NodeDef* def) {
  auto& attrs = *def->mutable_attr();
  for (const auto& attr_def : op.attr()) {
    auto it = attrs.find(attr_def.name());
    if (it == attrs.end()) {
      if (!attr_def.has_default_value()) {
        return absl::InvalidArgumentError(absl::StrCat("missing required attr '", attr_def.name(),
                                                       "' of type ", attr_def.type()));
      }
      it = attrs.insert({attr_def.name(), attr_def.default_value()}).first;
    }
    const AttrValue& value = it->second;
    if (!AttrValueHasType(value, attr_def.type())) {
      return absl::InvalidArgumentError(absl::StrCat("attr '", attr_def.name(),
                                                     "' should be of type ", attr_def.type(),
                                                     ", got ", AttrValueSummary(value)));
    }
    if (attr_def.has_allowed_values()) {
      const auto& allowed = attr_def.allowed_values().list();
      bool ok = true;
      if (attr_def.type() == "type") {
        ok = std::find(allowed.type().begin(), allowed.type().end(), value.type()) !=
             allowed.type().end();
      } else if (attr_def.type() == "string") {
        ok = std::find(allowed.s().begin(), allowed.s().end(), value.s()) != allowed.s().end();
      }
      if (!ok) {
        return absl::InvalidArgumentError(
            absl::StrCat("attr '", attr_def.name(), "' is ", AttrValueSummary(value),
                         ", must be one of ", AttrValueSummary(attr_def.allowed_values())));
      }
    }
    if (attr_def.has_minimum()) {
      int64_t got = attr_def.type() == "int"
                        ? value.i()
                        : value.list().i_size() + value.list().type_size() + value.list().s_size() +
                              value.list().f_size() + value.list().shape_size();
      if (got < attr_def.minimum()) {
        return absl::InvalidArgumentError(absl::StrCat("attr '", attr_def.name(), "' is ", got,
                                                       ", must be at least ", attr_def.minimum()));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status Graph::Validate(Node* node, std::vector<std::pair<Node*, int>>* data_inputs,
                             std::vector<Node*>* control_inputs) {
  NodeDef& def = node->def_;
  const OpDef& op = node->op_def();
  std::vector<DataType> input_dtypes;
  for (const std::string& input : def.input()) {
    ASSIGN_OR_RETURN(TensorId id, ParseTensorName(input));
    Node* src = FindNode(id.node);
    if (src == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("input '", input, "' names node '", id.node,
                                                     "', which is not in the graph"));
    }
    if (id.port == kControlSlot) {
      control_inputs->push_back(src);
      continue;
    }
    if (!control_inputs->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("data input '", input, "' comes after a control input"));
    }
    if (id.port >= src->num_outputs()) {
      return absl::InvalidArgumentError(
          absl::StrCat("input '", input, "' asks for output ", id.port, " of node '", src->name(),
                       "' (", src->type_string(), "), which has ", src->num_outputs(), " output",
                       src->num_outputs() == 1 ? "" : "s"));
    }
    data_inputs->emplace_back(src, id.port);
    input_dtypes.push_back(src->output_type(id.port));
  }
  RETURN_IF_ERROR(InferTypeAttrs(op, input_dtypes, &def));
  RETURN_IF_ERROR(CheckAttrs(op, &def));
  AttrSlice attrs(def);
  RETURN_IF_ERROR(ExpandArgs(op.input_arg(), attrs, &node->input_types_));
  RETURN_IF_ERROR(ExpandArgs(op.output_arg(), attrs, &node->output_types_));
  if (node->input_types_.size() != input_dtypes.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(def.op(), " takes ", node->input_types_.size(), " input",
                     node->input_types_.size() == 1 ? "" : "s", ", got ", input_dtypes.size()));
  }
  for (size_t i = 0; i < input_dtypes.size(); ++i) {
    DataType expected = node->input_types_[i];
    DataType got = input_dtypes[i];
    bool ok = expected == got || (!IsRefType(expected) && BaseType(got) == expected);
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat("input ", i, " ('", def.input(i), "') is ",
                                                     DataTypeString(got), ", expected ",
                                                     DataTypeString(expected)));
    }
  }
  return absl::OkStatus();
}

void Graph::Connect(Node* node, const std::vector<std::pair<Node*, int>>& data_inputs,
                    const std::vector<Node*>& control_inputs) {
  for (size_t i = 0; i < data_inputs.size(); ++i) {
    node->data_in_.push_back(
        AddEdge(data_inputs[i].first, data_inputs[i].second, node, static_cast<int>(i)));
  }
  for (Node* src : control_inputs) AddEdge(src, kControlSlot, node, kControlSlot);
}

const Edge* Graph::AddEdge(Node* src, int src_output, Node* dst, int dst_input) {
  auto edge = std::make_unique<Edge>();
  edge->src = src;
  edge->src_output = src_output;
  edge->dst = dst;
  edge->dst_input = dst_input;
  edge->id = static_cast<int>(edges_.size());
  edge->out_index = static_cast<int>(src->out_edges_.size());
  const Edge* e = edge.get();
  edges_.push_back(std::move(edge));
  src->out_edges_.push_back(e);
  dst->in_edges_.push_back(e);
  return e;
}

void Graph::RemoveEdge(const Edge* edge) {
  // Out-edge lists can be long (a fan-out), so the last entry takes the removed one's place.
  auto& out = edge->src->out_edges_;
  Edge* last = edges_[out.back()->id].get();
  last->out_index = edge->out_index;
  out[edge->out_index] = last;
  out.pop_back();
  auto& in = edge->dst->in_edges_;
  in.erase(std::find(in.begin(), in.end(), edge));
  edges_[edge->id].reset();
}

void Graph::SyncInputs(Node* node) {
  auto* inputs = node->def_.mutable_input();
  inputs->Clear();
  for (const Edge* e : node->data_in_) {
    *inputs->Add() = e == nullptr ? "" : TensorId{e->src->name(), e->src_output}.ToString();
  }
  for (const Edge* e : node->in_edges_) {
    if (e->IsControlEdge()) *inputs->Add() = "^" + e->src->name();
  }
}

void Graph::RemoveNode(Node* node) {
  std::vector<Node*> readers;
  while (!node->out_edges_.empty()) {
    const Edge* e = node->out_edges_.back();
    if (!e->IsControlEdge()) e->dst->data_in_[e->dst_input] = nullptr;
    readers.push_back(e->dst);
    RemoveEdge(e);
  }
  while (!node->in_edges_.empty()) RemoveEdge(node->in_edges_.back());
  for (Node* reader : readers) SyncInputs(reader);
  by_name_.erase(node->name());
  --num_live_;
  nodes_[node->id()].reset();
}

absl::Status Graph::RefineOutputShape(Node* node, int output, const PartialShape& shape) {
  auto merged = node->output_shapes_[output].Merge(shape);
  if (!merged.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("output ", output, " has shape ", node->output_shapes_[output].DebugString(),
                     ", which does not fit ", shape.DebugString(), node->ErrorSuffix()));
  }
  node->output_shapes_[output] = *std::move(merged);
  return absl::OkStatus();
}

absl::Status Graph::UpdateInput(Node* dst, int input, Node* src, int output) {
  const DataType want = dst->input_type(input);
  const DataType got = src->output_type(output);
  if (want != got && (IsRefType(want) || BaseType(got) != want)) {
    return absl::InvalidArgumentError(
        absl::StrCat("input ", input, " of '", dst->name(), "' is ", DataTypeString(want),
                     ", cannot read ", DataTypeString(got), " from '", src->name(), "'"));
  }
  if (dst->data_in_[input] != nullptr) RemoveEdge(dst->data_in_[input]);
  // The new edge goes where the old one was: in_edges keeps data edges in input order.
  auto& in = dst->in_edges_;
  const auto at =
      std::find_if(in.begin(), in.end(),
                   [&](const Edge* e) { return e->IsControlEdge() || e->dst_input > input; }) -
      in.begin();
  const Edge* e = AddEdge(src, output, dst, input);
  in.pop_back();
  in.insert(in.begin() + at, e);
  dst->data_in_[input] = e;
  SyncInputs(dst);
  return absl::OkStatus();
}

void Graph::AddControlEdge(Node* src, Node* dst) {
  for (const Edge* e : dst->in_edges_) {
    if (e->IsControlEdge() && e->src == src) return;
  }
  AddEdge(src, kControlSlot, dst, kControlSlot);
  SyncInputs(dst);
}

void Graph::RemoveControlEdge(const Edge* edge) {
  Node* dst = edge->dst;
  RemoveEdge(edge);
  SyncInputs(dst);
}

absl::StatusOr<Node*> Graph::ReplaceNode(Node* old, NodeDef def) {
  def.set_name(old->name());
  struct Reader {
    Node* dst;
    int output, input;
  };
  std::vector<Reader> readers;
  for (const Edge* e : old->out_edges_) readers.push_back({e->dst, e->src_output, e->dst_input});
  // The new node takes the name, so the old one goes first; on error it comes back as a
  // copy (a new id) with its readers.
  NodeDef old_def = old->def();
  std::unique_ptr<Tensor> attached = std::move(old->attached_value_);
  const std::string device = old->assigned_device();
  RemoveNode(old);
  auto added = AddNode(std::move(def));
  Node* node = added.ok() ? *added : nullptr;
  if (!added.ok()) {
    node = AddNode(std::move(old_def)).value();  // valid before, so valid again
    node->attached_value_ = std::move(attached);
  }
  node->set_assigned_device(device);
  for (const Reader& r : readers) {
    if (r.input == kControlSlot) {
      AddControlEdge(node, r.dst);
      continue;
    }
    if (r.output >= node->num_outputs()) {
      return absl::InvalidArgumentError(absl::StrCat("'", node->name(), "' (", node->type_string(),
                                                     ") has no output ", r.output, ", which '",
                                                     r.dst->name(), "' reads"));
    }
    RETURN_IF_ERROR(UpdateInput(r.dst, r.input, node, r.output));
  }
  if (!added.ok()) return added.status();
  return node;
}

// A loop's back edge, NextIteration -> Merge: orders ignore it.
static bool IsBackEdge(const Edge* e) {
  return e->src->type_string() == "NextIteration" && e->dst->type_string() == "Merge";
}

std::vector<Node*> Graph::TopologicalOrder() const {
  std::vector<int> pending(nodes_.size(), 0);
  std::vector<Node*> order;
  order.reserve(num_live_);
  for (Node* node : nodes()) {
    int count = 0;
    for (const Edge* e : node->in_edges_) count += !IsBackEdge(e);
    pending[node->id()] = count;
    if (count == 0) order.push_back(node);
  }
  // `order` doubles as the queue: nodes are appended as they become ready.
  for (size_t i = 0; i < order.size(); ++i) {
    for (const Edge* e : order[i]->out_edges_) {
      if (!IsBackEdge(e) && --pending[e->dst->id()] == 0) order.push_back(e->dst);
    }
  }
  return order;
}

absl::Status Graph::InferShapes(Node* node) {
  std::vector<PartialShape> shapes;
  std::vector<const Tensor*> values;
  std::vector<const PartialShape*> shape_sources;
  for (int i = 0; i < node->num_inputs(); ++i) {
    const Edge* e = node->input_edge(i);
    shapes.push_back(e->src->output_shape(e->src_output));
    values.push_back(e->src->constant_value());
    // The value of Shape(t) is t's shape, as far as it is known.
    const bool shape_op = e->src->type_string() == "Shape" && e->src->num_inputs() == 1;
    shape_sources.push_back(
        shape_op ? &e->src->input_edge(0)->src->output_shape(e->src->input_edge(0)->src_output)
                 : nullptr);
  }
  InferenceContext ctx(node->def_, std::move(shapes), std::move(values), node->input_types_,
                       node->num_outputs(), std::move(shape_sources));
  RETURN_IF_ERROR(node->op_registration().shape_fn(&ctx));
  node->output_shapes_ = ctx.TakeOutputs();
  const std::string& op = node->type_string();
  if (options_.free_batch_dim && (op == "Placeholder" || op == "PlaceholderWithDefault") &&
      node->output_shapes_[0].rank() > 0) {
    node->output_shapes_[0].set_dim(0, PartialShape::kUnknownDim);
  }
  return absl::OkStatus();
}

void Graph::TruncateTo(int num_node_ids) {
  for (auto it = waiting_back_edges_.begin(); it != waiting_back_edges_.end();) {
    auto& edges = it->second;
    edges.erase(std::remove_if(edges.begin(), edges.end(),
                               [&](const BackEdge& b) { return b.merge->id() >= num_node_ids; }),
                edges.end());
    if (edges.empty()) {
      waiting_back_edges_.erase(it++);
    } else {
      ++it;
    }
  }
  for (int id = this->num_node_ids() - 1; id >= num_node_ids; --id) {
    if (nodes_[id] != nullptr) RemoveNode(nodes_[id].get());
  }
  nodes_.resize(num_node_ids);
  while (!edges_.empty() && edges_.back() == nullptr) edges_.pop_back();
}

void Graph::ReleaseConstantValue(Node* node) {
  auto it = node->def_.mutable_attr()->find("value");
  if (node->type_string() != "Const" || it == node->def_.mutable_attr()->end()) return;
  *it->second.mutable_tensor() = Shell(it->second.tensor());
  node->constant_value_.reset();
}

absl::Status Graph::AttachConstantValue(const std::string& name, Tensor value) {
  auto it = by_name_.find(name);
  if (it == by_name_.end() || it->second->type_string() != "Const") {
    return absl::InvalidArgumentError(absl::StrCat("no Const node '", name, "'"));
  }
  it->second->attached_value_ = std::make_unique<Tensor>(std::move(value));
  return absl::OkStatus();
}

std::vector<std::pair<std::string, Tensor>> TakeLargeConstants(GraphDef* def, size_t min_bytes) {
  std::vector<std::pair<std::string, Tensor>> taken;
  for (NodeDef& node : *def->mutable_node()) {
    auto it = node.mutable_attr()->find("value");
    if (node.op() != "Const" || it == node.mutable_attr()->end() ||
        it->second.tensor().tensor_content().size() < min_bytes) {
      continue;
    }
    auto value = Tensor::FromProto(it->second.tensor());
    if (!value.ok()) continue;  // left in place: the kernel will say what is wrong with it
    taken.emplace_back(node.name(), *std::move(value));
    std::string().swap(*it->second.mutable_tensor()->mutable_tensor_content());  // freed
  }
  return taken;
}

NodeDef Node::FullDef() const {
  NodeDef def = def_;
  if (attached_value_ != nullptr) {
    (*def.mutable_attr())["value"].mutable_tensor()->set_tensor_content(
        attached_value_->raw_data(), attached_value_->TotalBytes());
  }
  return def;
}

NodeDef Node::DefForCopy(std::optional<Tensor>* value) const {
  value->reset();
  auto it = def_.attr().find("value");
  const bool large = it != def_.attr().end() && type_string() == "Const" &&
                     it->second.tensor().tensor_content().size() >= Graph::kAttachBytes;
  if (attached_value_ == nullptr && !large) return def_;
  NodeDef def;
  def.set_name(def_.name());
  def.set_op(def_.op());
  def.set_device(def_.device());
  *def.mutable_input() = def_.input();
  for (const auto& [key, attr] : def_.attr()) {
    if (key != "value") (*def.mutable_attr())[key] = attr;
  }
  const TensorProto& proto = it->second.tensor();
  *(*def.mutable_attr())["value"].mutable_tensor() = Shell(proto);
  if (attached_value_ != nullptr) {
    *value = *attached_value_;
    return def;
  }
  auto decoded = Tensor::FromProto(proto);
  if (!decoded.ok()) return def_;  // left whole: the kernel will say what is wrong with it
  *value = *std::move(decoded);
  return def;
}

void Graph::ToGraphDef(GraphDef* out, bool attached_values) const {
  out->Clear();
  for (const Node* node : nodes()) {
    NodeDef* def = out->add_node();
    *def = attached_values ? node->FullDef() : node->def();
    if (!node->assigned_device().empty()) def->set_device(node->assigned_device());
  }
  *out->mutable_versions() = versions_;
  if (library_.function_size() > 0 || library_.gradient_size() > 0) {
    *out->mutable_library() = library_;
  }
}

Node* Graph::FindNode(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace runnel
