#include "runtime/partition.h"

#include <set>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/control_flow.h"
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
    frames_ = std::make_unique<Frames>(graph);
    for (const Node* node : graph.nodes()) {
      if (node->type_string() == "LoopCond") loop_conds_[frames_->of[node->id()]] = node;
    }
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
    // A _Recv inside a loop runs in each iteration of the loop's frame on its device:
    // it waits for that device's control loop (made now, all nodes being in place).
    for (const auto& [recv, where] : loop_recvs_) {
      ASSIGN_OR_RETURN(ControlLoopNodes loop, ControlLoop(where.first, *where.second));
      Partition(*where.second)->AddControlEdge(loop.merge, recv);
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

  // A loop split across devices runs, on each device with a part of it, a control loop of
  // its own frame (TensorFlow's design): Enter -> Merge -> Switch on the loop's condition
  // (received from the LoopCond's device each iteration) -> NextIteration, and Exit. Its
  // Merge is live in every iteration, the last one included, so the loop's _Recvs there
  // wait for it; a _Send of a dead value sends it dead, so no receive is left waiting.
  struct ControlLoopNodes {
    Node* merge;  // live in every iteration
    Node* pivot;  // live in the iterations that run the body
  };
  absl::StatusOr<ControlLoopNodes> ControlLoop(int frame, const Device& device) {
    const std::pair<int, std::string> key(frame, device.name());
    auto it = control_loops_.find(key);
    if (it != control_loops_.end()) return it->second;
    const Frames::Info& info = frames_->info[frame];
    auto cond = loop_conds_.find(frame);
    if (cond == loop_conds_.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat("while loop '", info.name, "' has no LoopCond"));
    }
    const int n = transfer_count_++;
    auto name = [&](const char* what) { return absl::StrCat("_cloop_", what, "_", n); };
    // Started in each iteration of the enclosing loop's body here (the root: once).
    NodeDef start;
    start.set_name(name("start"));
    start.set_op("Const");
    (*start.mutable_attr())["dtype"] = MakeAttr(DT_INT32);
    Tensor::Scalar<int32_t>(0).AsProto((*start.mutable_attr())["value"].mutable_tensor());
    if (info.parent != 0) {
      ASSIGN_OR_RETURN(ControlLoopNodes outer, ControlLoop(info.parent, device));
      start.add_input("^" + outer.pivot->name());
    }
    ASSIGN_OR_RETURN(Node * started, Add(device, std::move(start)));
    NodeDef enter;
    enter.set_name(name("enter"));
    enter.set_op("Enter");
    enter.add_input(started->name());
    for (const char* attr : {"frame_name", "parallel_iterations"}) {
      if (const AttrValue* v = info.enter->attrs().Find(attr)) (*enter.mutable_attr())[attr] = *v;
    }
    (*enter.mutable_attr())["is_constant"] = MakeAttr(false);
    ASSIGN_OR_RETURN(Node * entered, Add(device, std::move(enter)));
    NodeDef merge;
    merge.set_name(name("merge"));
    merge.set_op("Merge");
    merge.add_input(entered->name());
    merge.add_input(name("next"));  // the back edge, added below
    ASSIGN_OR_RETURN(Node * merged, Add(device, std::move(merge)));
    std::string pred = cond->second->name();
    if (cond->second->assigned_device() != device.name()) {
      ASSIGN_OR_RETURN(pred, SendOnce(*cond->second, 0, device, DT_BOOL));
      Partition(device)->AddControlEdge(merged, Partition(device)->FindNode(pred));
    }
    NodeDef sw;
    sw.set_name(name("switch"));
    sw.set_op("Switch");
    sw.add_input(merged->name());
    sw.add_input(pred);
    ASSIGN_OR_RETURN(Node * switched, Add(device, std::move(sw)));
    NodeDef exit;
    exit.set_name(name("exit"));
    exit.set_op("Exit");
    exit.add_input(switched->name());
    RETURN_IF_ERROR(Add(device, std::move(exit)).status());
    NodeDef pivot;
    pivot.set_name(name("pivot"));
    pivot.set_op("Identity");
    pivot.add_input(absl::StrCat(switched->name(), ":1"));
    ASSIGN_OR_RETURN(Node * pivoted, Add(device, std::move(pivot)));
    NodeDef next;
    next.set_name(name("next"));
    next.set_op("NextIteration");
    next.add_input(pivoted->name());
    RETURN_IF_ERROR(Add(device, std::move(next)).status());
    return control_loops_[key] = {merged, pivoted};
  }

  // The name of the _Recv on `dst` of output `port` of `src` (made once per tensor and
  // device), without the loop bookkeeping of Transfer: the control loops' conditions.
  absl::StatusOr<std::string> SendOnce(const Node& src_node, int port, const Device& dst,
                                       DataType dtype) {
    const std::string source = TensorId{src_node.name(), port}.ToString();
    const std::string key = absl::StrCat(source, "|", dst.name());
    auto it = recvs_.find(key);
    if (it != recvs_.end()) return it->second;
    ASSIGN_OR_RETURN(
        Node * recv,
        AddSendRecv(source, source, *devices_.Find(src_node.assigned_device()), dst, dtype));
    return recvs_[key] = recv->name();
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
    std::string sent = source;
    DataType dtype = control ? DT_INT32 : BaseType(src_node->output_type(edge.src_output));
    if (control) {
      // A control edge carries no value: send a dummy scalar that runs after src.
      NodeDef dummy;
      dummy.set_name(absl::StrCat("_ctrl_", src_node->name(), "_", transfer_count_++));
      dummy.set_op("Const");
      dummy.set_device(src.name());
      (*dummy.mutable_attr())["dtype"] = MakeAttr(DT_INT32);
      Tensor::Scalar<int32_t>(0).AsProto((*dummy.mutable_attr())["value"].mutable_tensor());
      dummy.add_input(source);
      ASSIGN_OR_RETURN(Node * added, Add(src, std::move(dummy)));
      sent = added->name();
    }
    ASSIGN_OR_RETURN(Node * recv, AddSendRecv(source, sent, src, dst, dtype));
    const int frame = frames_->ValueFrame(src_node);
    if (frame != 0) loop_recvs_.emplace_back(recv, std::make_pair(frame, &dst));
    return recvs_[key] = recv->name();
  }

  // A _Send of `sent` on `src` and its _Recv on `dst`, keyed by `source`; the _Recv.
  absl::StatusOr<Node*> AddSendRecv(const std::string& source, const std::string& sent,
                                    const Device& src, const Device& dst, DataType dtype) {
    const int n = transfer_count_++;
    const std::string tensor_name = absl::StrCat("edge_", n, "_", source);
    NodeDef send =
        TransferNodeDef("_Send", absl::StrCat("_send_", n), dtype, tensor_name, src, dst);
    send.add_input(sent);
    RETURN_IF_ERROR(Add(src, std::move(send)).status());
    return Add(dst,
               TransferNodeDef("_Recv", absl::StrCat("_recv_", n), dtype, tensor_name, src, dst));
  }

  const DeviceSet& devices_;
  std::unique_ptr<Frames> frames_;
  absl::flat_hash_map<int, const Node*> loop_conds_;  // by frame
  std::map<std::pair<int, std::string>, ControlLoopNodes> control_loops_;
  // _Recvs inside a loop's frame: (the _Recv, (frame, its device)).
  std::vector<std::pair<Node*, std::pair<int, const Device*>>> loop_recvs_;
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
