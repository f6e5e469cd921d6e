// fuse_bias_activation: Conv2D, DepthwiseConv2dNative or MatMul (float, NHWC), then a bias
// (BiasAdd, or Add of a vector over the last dim), then optionally Relu or Relu6, become
// one _FusedConv2D / _FusedDepthwiseConv2dNative / _FusedMatMul node (TensorFlow's names)
// under the last node's name: one kernel instead of three, and no intermediate tensors.
// Shape readers of the intermediate tensors read the fused output (same shape).
#include "core/kernel_registry.h"
#include "core/status.h"
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
Node* OnlyValueReader(const Node& node, std::vector<Node*>* shapes) {
  Node* reader = nullptr;
  for (const Edge* e : node.out_edges()) {
    if (e->src_output != 0) return nullptr;  // control readers too
    if (e->dst->type_string() == "Shape" && e->dst_input == 0) {
      shapes->push_back(e->dst);
    } else if (reader != nullptr) {
      return nullptr;
    } else {
      reader = e->dst;
    }
  }
  return reader;
}

class FuseBiasActivationPass : public GraphPass {
 public:
  const char* name() const override { return "fuse_bias_activation"; }

  absl::Status Run(const PassContext& ctx, Graph* graph) override {
    if (!graph->InferShapes().ok()) return absl::OkStatus();  // the session reports it
    for (int id : TopologicalIds(*graph)) {
      Node* producer = graph->node(id);
      if (producer == nullptr || ctx.keep.contains(producer->name())) continue;
      const char* fused_op = FusedOp(producer->type_string());
      if (fused_op == nullptr || !IsNhwcOrAbsent(*producer) ||
          producer->output_type(0) != DT_FLOAT) {
        continue;
      }
      std::vector<Node*> shapes;
      Node* bias = OnlyValueReader(*producer, &shapes);
      const Edge* bias_input = nullptr;
      if (bias == nullptr || ctx.keep.contains(bias->name()) ||
          DeviceOf(*bias) != DeviceOf(*producer) ||
          (bias_input = BiasInput(*bias, *producer)) == nullptr) {
        continue;
      }
      Node* last = bias;
      std::vector<std::string> fused_ops = {"BiasAdd"};
      std::vector<Node*> bias_shapes;
      Node* activation = OnlyValueReader(*bias, &bias_shapes);
      if (activation != nullptr && DeviceOf(*activation) == DeviceOf(*producer) &&
          (activation->type_string() == "Relu" || activation->type_string() == "Relu6")) {
        fused_ops.push_back(activation->type_string());
        last = activation;
        shapes.insert(shapes.end(), bias_shapes.begin(), bias_shapes.end());
      }
      NodeDef fused;
      fused.set_op(fused_op);
      fused.set_device(producer->requested_device());
      *fused.mutable_attr() = producer->def().attr();
      (*fused.mutable_attr())["num_args"] = MakeAttr(int64_t{1});
      (*fused.mutable_attr())["fused_ops"] = MakeAttr(fused_ops);
      (*fused.mutable_attr())["epsilon"] = MakeAttr(0.0f);
      fused.add_input(InputName(producer->input_edge(0)));
      fused.add_input(InputName(producer->input_edge(1)));
      fused.add_input(InputName(bias_input));
      for (const Node* part : {producer, bias, last}) {
        for (const Edge* e : part->in_edges()) {
          const std::string input = InputName(e);
          if (e->IsControlEdge() &&
              std::count(fused.input().begin(), fused.input().end(), input) == 0) {
            fused.add_input(input);
          }
        }
      }
      // Only where the device has the fused kernel.
      std::vector<DataType> input_types = producer->input_types();
      input_types.push_back(bias_input->src->output_type(bias_input->src_output));
      if (KernelRegistry::Global()->Find(DeviceTypeOf(*producer), fused, input_types,
                                         producer->output_types()) == nullptr) {
        continue;
      }
      for (Node* shape : shapes) RETURN_IF_ERROR(graph->UpdateInput(shape, 0, last, 0));
      RETURN_IF_ERROR(graph->ReplaceNode(last, std::move(fused)).status());
      if (last != bias) graph->RemoveNode(bias);
      graph->RemoveNode(producer);
    }
    return absl::OkStatus();
  }

 private:
  // The edge bringing the bias that `bias` adds to `producer`'s output: BiasAdd's second
  // input, or the other input of an Add when its shape is [channels]; nullptr otherwise.
  static const Edge* BiasInput(const Node& bias, const Node& producer) {
    if (bias.num_inputs() != 2) return nullptr;
    const Edge* in0 = bias.input_edge(0);
    const Edge* in1 = bias.input_edge(1);
    if (bias.type_string() == "BiasAdd") {
      return IsNhwcOrAbsent(bias) && in0->src == &producer ? in1 : nullptr;
    }
    if (bias.type_string() != "Add" && bias.type_string() != "AddV2") return nullptr;
    const Edge* other = in0->src == &producer ? in1 : in0;
    const Edge* from = other == in1 ? in0 : in1;
    const PartialShape& shape = producer.output_shape(0);
    if (from->src != &producer || shape.unknown_rank() || shape.rank() < 1) return nullptr;
    const PartialShape& b = other->src->output_shape(other->src_output);
    const int64_t channels = shape.dim(shape.rank() - 1);
    if (b.rank() != 1 || channels < 0 || b.dim(0) != channels) return nullptr;
    return other;
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeFuseBiasActivationPass() {
  return std::make_unique<FuseBiasActivationPass>();
}

}  // namespace runnel
