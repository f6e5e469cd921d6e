#include "runtime/partition.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"

namespace runnel {
namespace {

NodeDef* AddTransferNode(GraphDef* partition, const std::string& op, const std::string& name,
                         DataType dtype, const std::string& tensor_name, const Device& src,
                         const Device& dst) {
  NodeDef* def = partition->add_node();
  def->set_name(name);
  def->set_op(op);
  def->set_device(op == "_Send" ? src.name() : dst.name());
  auto& attr = *def->mutable_attr();
  attr[op == "_Send" ? "T" : "tensor_type"] = MakeAttr(dtype);
  attr["tensor_name"] = MakeAttr(tensor_name);
  attr["send_device"] = MakeAttr(src.name());
  attr["send_device_incarnation"] = MakeAttr(static_cast<int64_t>(src.incarnation()));
  attr["recv_device"] = MakeAttr(dst.name());
  attr["client_terminated"] = MakeAttr(false);
  return def;
}

}  // namespace

absl::StatusOr<std::map<std::string, GraphDef>> PartitionGraph(const Graph& graph,
                                                               const DeviceSet& devices) {
  std::map<std::string, GraphDef> partitions;
  // (source tensor or "^node", destination device) -> the _Recv node's name there.
  absl::flat_hash_map<std::string, std::string> recvs;
  int transfer_count = 0;
  for (int id = 0; id < graph.num_nodes(); ++id) {
    const Node* node = graph.node(id);
    Device* dst = devices.Find(node->assigned_device());
    if (dst == nullptr) {
      return absl::InternalError(absl::StrCat("node has no valid device '", node->assigned_device(),
                                              "'", node->ErrorSuffix()));
    }
    NodeDef def = node->def();
    def.set_device(dst->name());
    def.clear_input();
    std::vector<std::string> controls;
    for (const Edge* e : node->in_edges()) {
      const Node* src_node = e->src;
      const bool control = e->IsControlEdge();
      std::string source =
          control ? "^" + src_node->name() : absl::StrCat(src_node->name(), ":", e->src_output);
      if (src_node->assigned_device() == node->assigned_device()) {
        if (control)
          controls.push_back(source);
        else
          def.add_input(source);
        continue;
      }
      Device* src = devices.Find(src_node->assigned_device());
      std::string key = absl::StrCat(source, "|", dst->name());
      auto it = recvs.find(key);
      if (it == recvs.end()) {
        const int n = transfer_count++;
        GraphDef& src_part = partitions[src->name()];
        std::string sent = source;
        DataType dtype = control ? DT_INT32 : BaseType(src_node->output_type(e->src_output));
        if (control) {
          // A control edge carries no value: send a dummy scalar that runs after src.
          NodeDef* dummy = src_part.add_node();
          dummy->set_name(absl::StrCat("_ctrl_", src_node->name(), "_", n));
          dummy->set_op("Const");
          dummy->set_device(src->name());
          Tensor zero = Tensor::Scalar<int32_t>(0);
          AttrValue value;
          zero.AsProto(value.mutable_tensor());
          (*dummy->mutable_attr())["value"] = value;
          (*dummy->mutable_attr())["dtype"] = MakeAttr(DT_INT32);
          dummy->add_input(source);
          sent = dummy->name();
        }
        std::string tensor_name = absl::StrCat("edge_", n, "_", source);
        NodeDef* send = AddTransferNode(&src_part, "_Send", absl::StrCat("_send_", n), dtype,
                                        tensor_name, *src, *dst);
        send->add_input(sent);
        NodeDef* recv = AddTransferNode(&partitions[dst->name()], "_Recv",
                                        absl::StrCat("_recv_", n), dtype, tensor_name, *src, *dst);
        it = recvs.emplace(key, recv->name()).first;
      }
      if (control)
        controls.push_back("^" + it->second);
      else
        def.add_input(it->second);
    }
    for (const auto& c : controls) def.add_input(c);
    *partitions[dst->name()].add_node() = std::move(def);
  }
  return partitions;
}

}  // namespace runnel
