#include "runtime/partition.h"

#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace runnel {
namespace {

NodeDef TransferNodeDef(const std::string& op, const std::string& name, DataType dtype,
                        const std::string& tensor_name, const Device& src, const Device& dst) {
  NodeDef def;
  def.set_name(name);
  def.set_op(op);
  def.set_device(op == "_Send" ? src.name() : dst.name());
  auto& attr = *def.mutable_attr();
  attr[op == "_Send" ? "T" : "tensor_type"] = MakeAttr(dtype);
  attr["tensor_name"] = MakeAttr(tensor_name);
  attr["send_device"] = MakeAttr(src.name());
  attr["send_device_incarnation"] = MakeAttr(static_cast<int64_t>(src.incarnation()));
  attr["recv_device"] = MakeAttr(dst.name());
  attr["client_terminated"] = MakeAttr(false);
  return def;
}

class Partitioner {
 public:
  explicit Partitioner(const DeviceSet& devices) : devices_(devices) {}

  absl::StatusOr<std::map<std::string, std::unique_ptr<Graph>>> Run(const Graph& graph) {
    for (const Node* node : graph.TopologicalOrder()) {
      Device* dst = devices_.Find(node->assigned_device());
      std::optional<Tensor> value;
      NodeDef def = node->DefForCopy(&value);
      def.clear_input();
      std::vector<std::string> controls;
      for (const Edge* e : node->in_edges()) {
        const bool control = e->IsControlEdge();
        std::string source = TensorId{e->src->name(), e->src_output}.ToString();
        if (e->src->assigned_device() != node->assigned_device()) {
          ASSIGN_OR_RETURN(source, Transfer(*e, *dst));
          if (control) source = "^" + source;
        }
        if (control) {
          controls.push_back(source);
        } else {
          def.add_input(source);
        }
      }
      for (const std::string& c : controls) def.add_input(c);
      ASSIGN_OR_RETURN(Node * copy, Add(*dst, std::move(def)));
      if (value) RETURN_IF_ERROR(Partition(*dst)->AttachConstantValue(copy->name(), *value));
    }
    return std::move(partitions_);
  }

 private:
  Graph* Partition(const Device& device) {
    auto& partition = partitions_[device.name()];
    if (partition == nullptr)
      partition = std::make_unique<Graph>(GraphBuildOptions{/*infer_shapes=*/false});
    return partition.get();
  }

  absl::StatusOr<Node*> Add(const Device& device, NodeDef def) {
    ASSIGN_OR_RETURN(Node * node, Partition(device)->AddNode(std::move(def)));
    node->set_assigned_device(device.name());
    return node;
  }

  // The name of the _Recv on `dst` that receives what `edge` carries (made once per
  // source tensor and device).
  absl::StatusOr<std::string> Transfer(const Edge& edge, const Device& dst) {
    const bool control = edge.IsControlEdge();
    const Node* src_node = edge.src;
    const std::string source = TensorId{src_node->name(), edge.src_output}.ToString();
    const std::string key = absl::StrCat(source, "|", dst.name());
    auto it = recvs_.find(key);
    if (it != recvs_.end()) return it->second;
    const Device& src = *devices_.Find(src_node->assigned_device());
    const int n = transfer_count_++;
    std::string sent = source;
    DataType dtype = control ? DT_INT32 : BaseType(src_node->output_type(edge.src_output));
    if (control) {
      // A control edge carries no value: send a dummy scalar that runs after src.
      NodeDef dummy;
      dummy.set_name(absl::StrCat("_ctrl_", src_node->name(), "_", n));
      dummy.set_op("Const");
      dummy.set_device(src.name());
      (*dummy.mutable_attr())["dtype"] = MakeAttr(DT_INT32);
      Tensor::Scalar<int32_t>(0).AsProto((*dummy.mutable_attr())["value"].mutable_tensor());
      dummy.add_input(source);
      ASSIGN_OR_RETURN(Node * added, Add(src, std::move(dummy)));
      sent = added->name();
    }
    const std::string tensor_name = absl::StrCat("edge_", n, "_", source);
    NodeDef send =
        TransferNodeDef("_Send", absl::StrCat("_send_", n), dtype, tensor_name, src, dst);
    send.add_input(sent);
    RETURN_IF_ERROR(Add(src, std::move(send)).status());
    ASSIGN_OR_RETURN(Node * recv, Add(dst, TransferNodeDef("_Recv", absl::StrCat("_recv_", n),
                                                           dtype, tensor_name, src, dst)));
    return recvs_[key] = recv->name();
  }

  const DeviceSet& devices_;
  std::map<std::string, std::unique_ptr<Graph>> partitions_;
  // (source tensor or "^node", destination device) -> the _Recv node's name there.
  absl::flat_hash_map<std::string, std::string> recvs_;
  int transfer_count_ = 0;
};

}  // namespace

absl::StatusOr<std::map<std::string, std::unique_ptr<Graph>>> PartitionGraph(
    std::unique_ptr<Graph> graph, const DeviceSet& devices) {
  std::set<Device*> used;
  for (const Node* node : graph->nodes()) {
    Device* device = devices.Find(node->assigned_device());
    if (device == nullptr) {
      return absl::InternalError(absl::StrCat("node has no valid device '", node->assigned_device(),
                                              "'", node->ErrorSuffix()));
    }
    used.insert(device);
  }
  if (used.size() > 1) return Partitioner(devices).Run(*graph);
  std::map<std::string, std::unique_ptr<Graph>> partitions;
  if (!used.empty()) partitions[(*used.begin())->name()] = std::move(graph);
  return partitions;
}

}  // namespace runnel
