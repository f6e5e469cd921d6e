#include "runtime/passes/graph_pass.h"

#include "core/device_name.h"
#include "core/status.h"

namespace runnel {

std::string InputName(const Edge* edge) {
  return TensorId{edge->src->name(), edge->src_output}.ToString();
}

std::vector<int> TopologicalIds(const Graph& graph) {
  std::vector<int> ids;
  for (const Node* node : graph.TopologicalOrder()) ids.push_back(node->id());
  return ids;
}

absl::Status MoveReaders(Graph* graph, Node* from, Node* to, int first_output) {
  const std::vector<const Edge*> readers = from->out_edges();
  for (const Edge* e : readers) {
    if (e->IsControlEdge()) {
      Node* dst = e->dst;
      graph->RemoveControlEdge(e);
      graph->AddControlEdge(to, dst);
    } else {
      RETURN_IF_ERROR(graph->UpdateInput(e->dst, e->dst_input, to, first_output + e->src_output));
    }
  }
  return absl::OkStatus();
}

const TensorProto* FreeConstant(const Node* node) {
  if (node == nullptr || node->type_string() != "Const" || !node->in_edges().empty()) {
    return nullptr;
  }
  auto it = node->def().attr().find("value");
  return it == node->def().attr().end() ? nullptr : &it->second.tensor();
}

absl::StatusOr<Tensor> FreeConstantValue(const Node* node) {
  const TensorProto* proto = FreeConstant(node);
  if (proto == nullptr) return absl::InvalidArgumentError("not a free constant");
  if (node->attached_value() != nullptr) return *node->attached_value();
  return Tensor::FromProto(*proto);
}

absl::StatusOr<Node*> AddConstant(Graph* graph, const std::string& name, const std::string& device,
                                  const Tensor& value, Node* replaced) {
  NodeDef def;
  def.set_name(name);
  def.set_op("Const");
  def.set_device(device);
  (*def.mutable_attr())["dtype"] = MakeAttr(value.dtype());
  TensorProto* proto = (*def.mutable_attr())["value"].mutable_tensor();
  const bool attach = value.dtype() != DT_STRING && value.TotalBytes() >= Graph::kAttachBytes;
  if (attach) {
    proto->set_dtype(value.dtype());
    value.shape().AsProto(proto->mutable_tensor_shape());
  } else {
    value.AsProto(proto);
  }
  ASSIGN_OR_RETURN(Node * node, replaced != nullptr ? graph->ReplaceNode(replaced, std::move(def))
                                                    : graph->AddNode(std::move(def)));
  // `name` may have been `replaced`'s, gone now.
  if (attach) RETURN_IF_ERROR(graph->AttachConstantValue(node->name(), value));
  return node;
}

const std::string& DeviceOf(const Node& node) {
  return node.assigned_device().empty() ? node.requested_device() : node.assigned_device();
}

std::string DeviceTypeOf(const Node& node) {
  auto name = DeviceName::Parse(DeviceOf(node));
  return name.ok() && !name->type.empty() ? name->type : "CPU";
}

bool IsNhwcOrAbsent(const Node& node) {
  std::string format;
  return !node.attrs().Get("data_format", &format).ok() || format == "NHWC";
}

}  // namespace runnel
