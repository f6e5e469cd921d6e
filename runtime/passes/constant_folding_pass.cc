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

  absl::Status Run(const PassContext& ctx, GraphDef* graph) override {
    if (!ctx.evaluate) return absl::OkStatus();
    // Dtypes and shapes; a graph whose shapes do not infer is left as it is (the session
    // reports its errors when it runs).
    auto built = TypedGraph(*graph);
    if (!built.ok()) return absl::OkStatus();
    const Graph& typed = **built;
    GraphIndex index(graph);
    bool has_switch = false;
    for (const NodeDef& node : graph->node()) has_switch |= node.op() == "Switch";
    // Node name -> its value (port 0): folded values, and free constants decoded when a
    // foldable node reads them (weights that nothing folds are never copied).
    absl::flat_hash_map<std::string, Tensor> constants;
    for (const std::string& name : index.TopologicalOrder()) {
      NodeDef* def = index.Find(name);
      const Node* node = typed.FindNode(name);
      if (node == nullptr || def->op() == "Const") continue;
      if (!Foldable(*node)) continue;  // kept nodes fold too: a Const keeps name and value
      Tensor value;
      if (ShapeValue(*node, &value)) {
        NodeDef folded = ConstNodeDef(def->name(), def->device(), value);
        // Its input may be dead (a cond's untaken branch); a control edge keeps that.
        if (has_switch) {
          folded.add_input("^" + ParseInput(def->input(0)).node);
        } else {
          constants[name] = value;
        }
        index.Replace(std::move(folded));
        continue;
      }
      const PartialShape& shape = node->output_shape(0);
      if (shape.IsFullyDefined() &&
          static_cast<double>(shape.num_elements()) * DataTypeSize(node->output_type(0)) >
              kMaxBytes) {
        continue;  // too large to keep as a constant (and perhaps to compute at all)
      }
      if (!EvaluateFromConstants(*node, *def, index, &constants, ctx.evaluate, &value) ||
          value.TotalBytes() > kMaxBytes) {
        continue;
      }
      constants[name] = value;
      index.Replace(ConstNodeDef(def->name(), def->device(), value));
    }
    index.Compact();
    return absl::OkStatus();
  }

 private:
  // Every input (control inputs too) must be a folded value or a free constant.
  static bool EvaluateFromConstants(const Node& node, const NodeDef& def, const GraphIndex& index,
                                    absl::flat_hash_map<std::string, Tensor>* constants,
                                    const NodeEvaluator& evaluate, Tensor* value) {
    for (const std::string& input : def.input()) {
      const TensorId id = ParseInput(input);
      if (id.port > 0) return false;
      if (!constants->contains(id.node) && FreeConstant(index.Find(id.node)) == nullptr) {
        return false;
      }
    }
    std::vector<Tensor> inputs;
    for (const std::string& input : def.input()) {
      const TensorId id = ParseInput(input);
      auto it = constants->find(id.node);
      if (it == constants->end()) {
        auto decoded = Tensor::FromProto(*FreeConstant(index.Find(id.node)));
        if (!decoded.ok()) return false;
        it = constants->emplace(id.node, *std::move(decoded)).first;
      }
      if (id.port == 0) inputs.push_back(it->second);
    }
    if (static_cast<int>(inputs.size()) != node.num_inputs()) return false;
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
