// constant_folding: a node whose inputs are all constants becomes a Const holding its
// value, computed once here by its own CPU kernel; Shape, Size and Rank of a tensor whose
// shape is fully known become constants too. Folding stops at stateful nodes, feeds,
// control flow and values over kMaxBytes (those would bloat the graph).
#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

constexpr size_t kMaxBytes = 10 << 20;

bool Foldable(const Node& node) {
  const std::string& op = node.type_string();
  if (node.op_def().is_stateful() || node.num_outputs() != 1 || op == "Const" ||
      op == "Placeholder" || op == "PlaceholderWithDefault" || op == "Switch" || op == "Merge") {
    return false;
  }
  for (DataType t : node.input_types()) {
    if (IsRefType(t)) return false;
  }
  return !IsRefType(node.output_type(0));
}

// The value of Shape, Size or Rank when `node`'s input shape is fully known.
bool ShapeValue(const Node& node, Tensor* value) {
  const std::string& op = node.type_string();
  if (op != "Shape" && op != "Size" && op != "Rank") return false;
  const Edge* in = node.input_edge(0);
  if (in == nullptr) return false;
  const PartialShape& shape = in->src->output_shape(in->src_output);
  if (op == "Rank" ? shape.unknown_rank() : !shape.IsFullyDefined()) return false;
  const DataType dtype = node.output_type(0);
  if (dtype != DT_INT32 && dtype != DT_INT64) return false;
  std::vector<int64_t> values;
  if (op == "Shape") values.assign(shape.dims().begin(), shape.dims().end());
  if (op == "Size") values.push_back(shape.num_elements());
  if (op == "Rank") values.push_back(shape.rank());
  *value = Tensor(dtype,
                  op == "Shape" ? TensorShape{static_cast<int64_t>(values.size())} : TensorShape{});
  for (size_t i = 0; i < values.size(); ++i) {
    if (dtype == DT_INT32) value->data<int32_t>()[i] = static_cast<int32_t>(values[i]);
    if (dtype == DT_INT64) value->data<int64_t>()[i] = values[i];
  }
  return true;
}

class ConstantFoldingPass : public GraphPass {
 public:
  const char* name() const override { return "constant_folding"; }

  absl::Status Run(const PassContext& ctx, Graph* graph) override {
    if (!ctx.evaluate) return absl::OkStatus();
    // A graph whose shapes do not infer is left as it is (the session reports its errors
    // when it runs).
    if (!graph->InferShapes().ok()) return absl::OkStatus();
    bool has_switch = false;
    for (const Node* node : graph->nodes()) has_switch |= node->type_string() == "Switch";
    // Node id -> its value (output 0): folded values, and free constants decoded when a
    // foldable node reads them (weights that nothing folds are never copied).
    absl::flat_hash_map<int, Tensor> constants;
    for (int id : TopologicalIds(*graph)) {
      Node* node = graph->node(id);
      if (node->type_string() == "Const" || !Foldable(*node)) continue;
      // Kept nodes fold too: a Const keeps name and value.
      Tensor value;
      if (ShapeValue(*node, &value)) {
        Node* src = node->input_edge(0)->src;
        ASSIGN_OR_RETURN(Node * replaced,
                         AddConstant(graph, node->name(), node->requested_device(), value, node));
        // Its input may be dead (a cond's untaken branch); a control edge keeps that.
        if (has_switch) {
          graph->AddControlEdge(src, replaced);
        } else {
          constants[replaced->id()] = value;
        }
        continue;
      }
      const PartialShape& shape = node->output_shape(0);
      if (shape.IsFullyDefined() &&
          static_cast<double>(shape.num_elements()) * DataTypeSize(node->output_type(0)) >
              kMaxBytes) {
        continue;  // too large to keep as a constant (and perhaps to compute at all)
      }
      if (!EvaluateFromConstants(*node, &constants, ctx.evaluate, &value) ||
          value.TotalBytes() > kMaxBytes) {
        continue;
      }
      ASSIGN_OR_RETURN(Node * replaced,
                       AddConstant(graph, node->name(), node->requested_device(), value, node));
      constants[replaced->id()] = value;
    }
    return absl::OkStatus();
  }

 private:
  // Every input (control inputs too) must be a folded value or a free constant.
  static bool EvaluateFromConstants(const Node& node, absl::flat_hash_map<int, Tensor>* constants,
                                    const NodeEvaluator& evaluate, Tensor* value) {
    for (const Edge* e : node.in_edges()) {
      if (e->src_output > 0) return false;
      if (!constants->contains(e->src->id()) && FreeConstant(e->src) == nullptr) return false;
    }
    std::vector<Tensor> inputs;
    for (int i = 0; i < node.num_inputs(); ++i) {
      const Node* src = node.input_edge(i)->src;
      auto it = constants->find(src->id());
      if (it == constants->end()) {
        auto decoded = FreeConstantValue(src);
        if (!decoded.ok()) return false;
        it = constants->emplace(src->id(), *std::move(decoded)).first;
      }
      inputs.push_back(it->second);
    }
    auto result = evaluate(node, std::move(inputs));
    if (!result.ok()) return false;  // the session reports it when the node runs
    *value = *std::move(result);
    return true;
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeConstantFoldingPass() {
  return std::make_unique<ConstantFoldingPass>();
}

}  // namespace runnel
