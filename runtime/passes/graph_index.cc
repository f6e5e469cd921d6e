#include <algorithm>

#include "runtime/passes/graph_pass.h"

namespace runnel {

TensorId ParseInput(const std::string& input) {
  auto id = ParseTensorName(input);
  return id.ok() ? *std::move(id) : TensorId{input, 0};  // "" marks a dropped input
}

std::string InputName(const std::string& node, int port) {
  return TensorId{node, port}.ToString();
}

absl::StatusOr<std::unique_ptr<Graph>> TypedGraph(const GraphDef& graph) {
  // A copy without the contents of large constants (shape functions read only small ones,
  // such as Reshape's shape), so that typing a graph does not copy its weights twice.
  constexpr size_t kKeepBytes = 4096;
  GraphDef copy;
  copy.mutable_versions()->CopyFrom(graph.versions());
  for (const NodeDef& original : graph.node()) {
    NodeDef* node = copy.add_node();
    auto value = original.attr().find("value");
    if (original.op() != "Const" || value == original.attr().end() ||
        value->second.tensor().ByteSizeLong() <= kKeepBytes) {
      *node = original;
      continue;
    }
    node->set_name(original.name());
    node->set_op(original.op());
    node->set_device(original.device());
    *node->mutable_input() = original.input();
    for (const auto& [key, attr] : original.attr()) {
      if (key != "value") (*node->mutable_attr())[key] = attr;
    }
    TensorProto* shell = (*node->mutable_attr())["value"].mutable_tensor();
    shell->set_dtype(value->second.tensor().dtype());
    *shell->mutable_tensor_shape() = value->second.tensor().tensor_shape();
  }
  for (NodeDef& node : *copy.mutable_node()) {
    if (node.op() != "Placeholder" && node.op() != "PlaceholderWithDefault") continue;
    auto it = node.mutable_attr()->find("shape");
    if (it == node.mutable_attr()->end() || it->second.shape().dim_size() == 0) continue;
    it->second.mutable_shape()->mutable_dim(0)->set_size(-1);
  }
  return Graph::FromGraphDef(copy);
}

const TensorProto* FreeConstant(const NodeDef* node) {
  if (node == nullptr || node->op() != "Const" || node->input_size() > 0) return nullptr;
  auto it = node->attr().find("value");
  return it == node->attr().end() ? nullptr : &it->second.tensor();
}

NodeDef ConstNodeDef(const std::string& name, const std::string& device, const Tensor& value) {
  NodeDef node;
  node.set_name(name);
  node.set_op("Const");
  node.set_device(device);
  (*node.mutable_attr())["dtype"] = MakeAttr(value.dtype());
  value.AsProto((*node.mutable_attr())["value"].mutable_tensor());
  return node;
}

bool IsStateful(const NodeDef& node) {
  auto reg = OpRegistry::Global()->LookUp(node.op());
  return !reg.ok() || (*reg)->op_def.is_stateful();
}

bool IsNhwcOrAbsent(const NodeDef& node) {
  auto it = node.attr().find("data_format");
  return it == node.attr().end() || it->second.s() == "NHWC";
}

GraphIndex::GraphIndex(GraphDef* graph) : graph_(graph) { Index(); }

void GraphIndex::Index() {
  for (NodeDef& node : *graph_->mutable_node()) by_name_[node.name()] = &node;
  for (NodeDef& node : *graph_->mutable_node()) {
    for (int i = 0; i < node.input_size(); ++i) {
      consumers_[ParseInput(node.input(i)).node].emplace_back(&node, i);
    }
  }
}

NodeDef* GraphIndex::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() || removed_.contains(name) ? nullptr : it->second;
}

const std::vector<std::pair<NodeDef*, int>>& GraphIndex::Consumers(const std::string& name) const {
  static const std::vector<std::pair<NodeDef*, int>> kNone;
  auto it = consumers_.find(name);
  return it == consumers_.end() ? kNone : it->second;
}

void GraphIndex::SetInput(NodeDef* node, int index, const std::string& input) {
  auto& old = consumers_[ParseInput(node->input(index)).node];
  old.erase(std::remove(old.begin(), old.end(), std::make_pair(node, index)), old.end());
  node->set_input(index, input);
  consumers_[ParseInput(input).node].emplace_back(node, index);
}

void GraphIndex::AddInput(NodeDef* node, const std::string& input) {
  consumers_[ParseInput(input).node].emplace_back(node, node->input_size());
  node->add_input(input);
}

void GraphIndex::Rewire(const std::string& name, int port, const std::string& replacement) {
  std::vector<std::pair<NodeDef*, int>> readers;
  for (const auto& [node, i] : Consumers(name)) {
    if (ParseInput(node->input(i)).port == port) readers.emplace_back(node, i);
  }
  std::vector<NodeDef*> dropped;
  for (const auto& [node, i] : readers) {
    const bool duplicate =
        port == kControlSlot &&
        (replacement.empty() || std::count(node->input().begin(), node->input().end(),
                                           replacement) > 0);
    if (duplicate) {
      SetInput(node, i, "");  // dropped below, once this node's positions are no longer used
      dropped.push_back(node);
    } else {
      SetInput(node, i, replacement);
    }
  }
  for (NodeDef* node : dropped) {
    // Rebuild the node's inputs without the empty ones, re-indexing its consumer entries.
    std::vector<std::string> inputs(node->input().begin(), node->input().end());
    for (int i = 0; i < node->input_size(); ++i) {
      auto& list = consumers_[ParseInput(node->input(i)).node];
      list.erase(std::remove(list.begin(), list.end(), std::make_pair(node, i)), list.end());
    }
    node->clear_input();
    for (const std::string& input : inputs) {
      if (!input.empty()) AddInput(node, input);
    }
  }
}

NodeDef* GraphIndex::Add(NodeDef node) {
  NodeDef* added = graph_->add_node();
  *added = std::move(node);
  by_name_[added->name()] = added;
  for (int i = 0; i < added->input_size(); ++i) {
    consumers_[ParseInput(added->input(i)).node].emplace_back(added, i);
  }
  return added;
}

NodeDef* GraphIndex::Replace(NodeDef node) {
  NodeDef* old = by_name_.at(node.name());
  for (int i = 0; i < old->input_size(); ++i) {
    auto& list = consumers_[ParseInput(old->input(i)).node];
    list.erase(std::remove(list.begin(), list.end(), std::make_pair(old, i)), list.end());
  }
  *old = std::move(node);
  for (int i = 0; i < old->input_size(); ++i) {
    consumers_[ParseInput(old->input(i)).node].emplace_back(old, i);
  }
  return old;
}

void GraphIndex::Compact() {
  GraphDef kept;
  for (NodeDef& node : *graph_->mutable_node()) {
    if (!removed_.contains(node.name())) *kept.add_node() = std::move(node);
  }
  graph_->mutable_node()->Swap(kept.mutable_node());
  by_name_.clear();
  consumers_.clear();
  removed_.clear();
}

std::vector<std::string> GraphIndex::TopologicalOrder() const {
  absl::flat_hash_map<const NodeDef*, int> pending;
  std::vector<const NodeDef*> ready;
  for (const NodeDef& node : graph_->node()) {
    if (removed_.contains(node.name())) continue;
    int count = 0;
    for (const std::string& input : node.input()) count += Find(ParseInput(input).node) != nullptr;
    pending[&node] = count;
    if (count == 0) ready.push_back(&node);
  }
  std::vector<std::string> order;
  while (!ready.empty()) {
    const NodeDef* node = ready.back();
    ready.pop_back();
    order.push_back(node->name());
    for (const auto& [consumer, i] : Consumers(node->name())) {
      auto it = pending.find(consumer);
      if (it != pending.end() && --it->second == 0) ready.push_back(consumer);
    }
  }
  return order;
}

}  // namespace runnel
