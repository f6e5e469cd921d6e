// fuse_bias_activation: Conv2D, DepthwiseConv2dNative or MatMul (float, NHWC), then a bias
// (BiasAdd, or Add of a vector over the last dim), then optionally Relu or Relu6, become
// one _FusedConv2D / _FusedDepthwiseConv2dNative / _FusedMatMul node (TensorFlow's names)
// under the last node's name: one kernel instead of three, and no intermediate tensors.
// Shape readers of the intermediate tensors read the fused output (same shape).
#include "absl/strings/match.h"
#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

const char* FusedOp(const std::string& op) {
  if (op == "Conv2D") return "_FusedConv2D";
  if (op == "DepthwiseConv2dNative") return "_FusedDepthwiseConv2dNative";
  if (op == "MatMul") return "_FusedMatMul";
  return nullptr;
}

// The one reader of `node`'s output 0 that is not a Shape op, with every other reader a
// Shape op (collected in `shapes`); nullptr otherwise.
NodeDef* OnlyValueReader(const GraphIndex& index, const NodeDef& node,
                         std::vector<NodeDef*>* shapes) {
  NodeDef* reader = nullptr;
  for (const auto& [consumer, i] : index.Consumers(node.name())) {
    if (ParseInput(consumer->input(i)).port != 0) return nullptr;  // control readers too
    if (consumer->op() == "Shape" && i == 0) {
      shapes->push_back(consumer);
    } else if (reader != nullptr) {
      return nullptr;
    } else {
      reader = consumer;
    }
  }
  return reader;
}

class FuseBiasActivationPass : public GraphPass {
 public:
  const char* name() const override { return "fuse_bias_activation"; }

  absl::Status Run(const PassContext& ctx, GraphDef* graph) override {
    auto built = TypedGraph(*graph);
    if (!built.ok()) return absl::OkStatus();  // the session reports the graph's errors
    const Graph& typed = **built;
    GraphIndex index(graph);
    for (const std::string& name : index.TopologicalOrder()) {
      NodeDef* producer = index.Find(name);
      const Node* node = typed.FindNode(name);
      if (producer == nullptr || node == nullptr || ctx.keep.contains(name)) continue;
      const char* fused_op = FusedOp(producer->op());
      if (fused_op == nullptr || !IsNhwcOrAbsent(*producer) || node->output_type(0) != DT_FLOAT ||
          absl::StrContains(producer->device(), "GPU") ||
          absl::StrContains(producer->device(), "gpu")) {
        continue;
      }
      std::vector<NodeDef*> shapes;
      NodeDef* bias = OnlyValueReader(index, *producer, &shapes);
      std::string bias_input;
      if (bias == nullptr || ctx.keep.contains(bias->name()) ||
          !BiasInput(typed, *bias, name, node->output_shape(0), &bias_input)) {
        continue;
      }
      NodeDef* last = bias;
      std::vector<std::string> fused_ops = {"BiasAdd"};
      std::vector<NodeDef*> bias_shapes;
      NodeDef* activation = OnlyValueReader(index, *bias, &bias_shapes);
      if (activation != nullptr && (activation->op() == "Relu" || activation->op() == "Relu6") &&
          activation->input_size() >= 1 && ParseInput(activation->input(0)).node == bias->name()) {
        fused_ops.push_back(activation->op());
        last = activation;
        shapes.insert(shapes.end(), bias_shapes.begin(), bias_shapes.end());
      }
      NodeDef fused;
      fused.set_name(last->name());
      fused.set_op(fused_op);
      fused.set_device(producer->device());
      *fused.mutable_attr() = producer->attr();
      (*fused.mutable_attr())["num_args"] = MakeAttr(int64_t{1});
      (*fused.mutable_attr())["fused_ops"] = MakeAttr(fused_ops);
      (*fused.mutable_attr())["epsilon"] = MakeAttr(0.0f);
      fused.add_input(producer->input(0));
      fused.add_input(producer->input(1));
      fused.add_input(bias_input);
      for (const NodeDef* part : {producer, bias, last}) {
        for (const std::string& input : part->input()) {
          if (input[0] == '^' &&
              std::count(fused.input().begin(), fused.input().end(), input) == 0) {
            fused.add_input(input);
          }
        }
      }
      for (NodeDef* shape : shapes) index.SetInput(shape, 0, last->name());
      const std::string producer_name = producer->name(), bias_name = bias->name();
      index.Replace(std::move(fused));
      if (last != bias) index.Remove(bias_name);
      index.Remove(producer_name);
    }
    index.Compact();
    return absl::OkStatus();
  }

 private:
  // The bias that `bias` adds to `from`'s output: BiasAdd's second input, or the other
  // input of an Add when its shape is [channels].
  static bool BiasInput(const Graph& typed, const NodeDef& bias, const std::string& from,
                        const PartialShape& shape, std::string* input) {
    if (bias.input_size() < 2 || bias.input(1)[0] == '^') return false;
    if (bias.op() == "BiasAdd") {
      if (!IsNhwcOrAbsent(bias) || ParseInput(bias.input(0)).node != from) return false;
      *input = bias.input(1);
      return true;
    }
    if (bias.op() != "Add" && bias.op() != "AddV2") return false;
    const int other = ParseInput(bias.input(0)).node == from ? 1 : 0;
    if (ParseInput(bias.input(1 - other)).node != from || shape.unknown_rank() ||
        shape.rank() < 1) {
      return false;
    }
    const TensorId id = ParseInput(bias.input(other));
    const Node* src = typed.FindNode(id.node);
    if (src == nullptr || id.port < 0 || id.port >= src->num_outputs()) return false;
    const PartialShape& b = src->output_shape(id.port);
    const int64_t channels = shape.dim(shape.rank() - 1);
    if (b.rank() != 1 || channels < 0 || b.dim(0) != channels) return false;
    *input = bias.input(other);
    return true;
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeFuseBiasActivationPass() {
  return std::make_unique<FuseBiasActivationPass>();
}

}  // namespace runnel
