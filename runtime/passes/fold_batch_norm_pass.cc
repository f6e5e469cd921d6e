// fold_batch_norm: batch-norm arithmetic after a Conv2D, DepthwiseConv2dNative or MatMul
// with constant weights moves into the weights. Two shapes of it are recognised:
//   P [-> BiasAdd/Add(b)] -> FusedBatchNorm(scale, offset, mean, variance; inference)
//   P [-> BiasAdd/Add(b)] -> Mul(per-channel or scalar constant)
// With s the per-channel factor and t the shift, the weights become W * s and the bias
// b * s + t: the batch norm becomes a BiasAdd (or the existing bias's), the Mul nothing.
#include <cmath>

#include "runtime/passes/graph_pass.h"

namespace runnel {
namespace {

// The weights of a foldable producer: a free float constant, with output channels
// `channels` laid out so that channel(i) gives element i's channel. Only a fold decodes
// the values (most producers are not followed by a batch norm).
struct Weights {
  Node* producer = nullptr;
  const Node* filter = nullptr;
  int64_t num_elements = 0;
  int64_t channels = 0;
  int output_rank = 4;         // of the producer's output
  bool channel_major = false;  // MatMul with transpose_b: [N, K]
  int64_t Channel(int64_t i) const {
    return channel_major ? i / (num_elements / channels) : i % channels;
  }
};

bool ReadWeights(Node* producer, Weights* w) {
  const std::string& op = producer->type_string();
  if (op != "Conv2D" && op != "DepthwiseConv2dNative" && op != "MatMul") return false;
  if (!IsNhwcOrAbsent(*producer) || producer->num_inputs() < 2) return false;
  const Edge* filter = producer->input_edge(1);
  const TensorProto* proto = FreeConstant(filter->src);
  if (proto == nullptr || filter->src_output != 0) return false;
  auto shape_or = TensorShape::FromProto(proto->tensor_shape());
  if (!shape_or.ok() || proto->dtype() != DT_FLOAT || shape_or->num_elements() == 0) return false;
  const TensorShape& shape = *shape_or;
  w->producer = producer;
  w->filter = filter->src;
  w->num_elements = shape.num_elements();
  if (op == "MatMul") {
    bool transpose_b = false;
    (void)producer->attrs().Get("transpose_b", &transpose_b);
    w->channel_major = transpose_b;
    w->output_rank = 2;
    w->channels = shape.dims() == 2 ? shape.dim_size(w->channel_major ? 0 : 1) : 0;
  } else if (shape.dims() == 4) {
    w->channels = op == "Conv2D" ? shape.dim_size(3) : shape.dim_size(2) * shape.dim_size(3);
  }
  return w->channels > 0;
}

// The single data reader of `node`'s output 0, or nullptr (several, or control readers,
// or other outputs read).
Node* OnlyReader(const Node& node) {
  const auto& readers = node.out_edges();
  if (readers.size() != 1 || readers[0]->src_output != 0) return nullptr;
  return readers[0]->dst;
}

// A per-channel (or scalar) float constant read by `node` besides `from`: the values, one
// per channel.
bool ChannelConstant(const Node& node, const Node& from, int64_t channels, int rank,
                     std::vector<float>* values) {
  if (node.num_inputs() != 2) return false;
  const Edge* in = node.input_edge(node.input_edge(0)->src == &from ? 1 : 0);
  if (in->src == &from || in->src_output != 0) return false;
  auto value = FreeConstantValue(in->src);
  if (!value.ok() || value->dtype() != DT_FLOAT) return false;
  const int64_t n = value->NumElements();
  if (value->dims() > rank) return false;  // it would broadcast the product to more dims
  for (int d = 0; d + 1 < value->dims(); ++d) {
    if (value->dim_size(d) != 1) return false;
  }
  if (n != 1 && n != channels) return false;
  values->resize(channels);
  for (int64_t c = 0; c < channels; ++c) (*values)[c] = value->data<float>()[n == 1 ? 0 : c];
  return true;
}

bool IsBias(const Node& node) {
  const std::string& op = node.type_string();
  return (op == "BiasAdd" && IsNhwcOrAbsent(node)) || op == "Add" || op == "AddV2";
}

std::string UniqueName(const Graph& graph, const std::string& base) {
  std::string name = base;
  for (int k = 1; graph.FindNode(name) != nullptr; ++k) name = absl::StrCat(base, "_", k);
  return name;
}

class FoldBatchNormPass : public GraphPass {
 public:
  const char* name() const override { return "fold_batch_norm"; }

  absl::Status Run(const PassContext& ctx, Graph* graph) override {
    for (int id : TopologicalIds(*graph)) {
      Node* producer = graph->node(id);
      Weights w;
      if (producer == nullptr || ctx.keep.contains(producer->name()) ||
          !ReadWeights(producer, &w)) {
        continue;
      }
      Node* next = OnlyReader(*producer);
      if (next == nullptr) continue;
      Node* bias = nullptr;
      std::vector<float> b(w.channels, 0.0f);
      if (IsBias(*next) && !ctx.keep.contains(next->name()) &&
          ChannelConstant(*next, *producer, w.channels, w.output_rank, &b)) {
        bias = next;
        next = OnlyReader(*bias);
        if (next == nullptr) continue;
      }
      std::vector<float> s, t;
      if (DeviceOf(*next) != DeviceOf(*producer) ||
          (bias != nullptr && DeviceOf(*bias) != DeviceOf(*producer)) ||
          !ScaleAndShift(*next, bias ? *bias : *producer, w, &s, &t)) {
        continue;
      }
      RETURN_IF_ERROR(Fold(graph, w, bias, next, s, t, b));
    }
    return absl::OkStatus();
  }

 private:
  // The factor and shift `norm` applies per channel, if it is an inference batch norm or a
  // Mul by constants.
  static bool ScaleAndShift(const Node& norm, const Node& from, const Weights& w,
                            std::vector<float>* s, std::vector<float>* t) {
    const int64_t channels = w.channels;
    const std::string& op = norm.type_string();
    if (op == "Mul") {
      t->assign(channels, 0.0f);
      return ChannelConstant(norm, from, channels, w.output_rank, s);
    }
    if (op != "FusedBatchNorm" && op != "FusedBatchNormV2" && op != "FusedBatchNormV3") {
      return false;
    }
    bool training = false;
    (void)norm.attrs().Get("is_training", &training);
    if (training || !IsNhwcOrAbsent(norm) || norm.num_inputs() < 5 ||
        norm.input_edge(0)->src != &from) {
      return false;
    }
    for (const Edge* e : norm.out_edges()) {
      if (e->src_output != 0) return false;  // batch statistics read
    }
    std::vector<std::vector<float>> params(4);
    for (int k = 0; k < 4; ++k) {
      const Edge* in = norm.input_edge(k + 1);
      if (in->src_output != 0) return false;
      auto value = FreeConstantValue(in->src);
      if (!value.ok() || value->dtype() != DT_FLOAT || value->NumElements() != channels) {
        return false;
      }
      params[k].assign(value->data<float>(), value->data<float>() + channels);
    }
    float epsilon = 1e-4f;
    (void)norm.attrs().Get("epsilon", &epsilon);
    s->resize(channels);
    t->resize(channels);
    for (int64_t c = 0; c < channels; ++c) {
      (*s)[c] = params[0][c] / std::sqrt(params[3][c] + epsilon);
      (*t)[c] = params[1][c] - params[2][c] * (*s)[c];
    }
    return true;
  }

  // Changes nothing when the weights do not decode.
  static absl::Status Fold(Graph* graph, const Weights& w, Node* bias, Node* norm,
                           const std::vector<float>& s, const std::vector<float>& t,
                           const std::vector<float>& b) {
    auto decoded = FreeConstantValue(w.filter);
    if (!decoded.ok()) return absl::OkStatus();
    Tensor weights = decoded->Clone();  // the graph may share the decoded one
    float* data = weights.data<float>();
    for (int64_t i = 0; i < weights.NumElements(); ++i) data[i] *= s[w.Channel(i)];
    Tensor shift(DT_FLOAT, TensorShape{w.channels});
    for (int64_t c = 0; c < w.channels; ++c) shift.data<float>()[c] = b[c] * s[c] + t[c];

    Node* producer = w.producer;
    const std::string& device = DeviceOf(*producer);
    ASSIGN_OR_RETURN(Node * folded_weights,
                     AddConstant(graph, UniqueName(*graph, producer->name() + "/folded_weights"),
                                 device, weights));
    RETURN_IF_ERROR(graph->UpdateInput(producer, 1, folded_weights, 0));
    NodeDef replacement;
    replacement.set_device(norm->requested_device());
    (*replacement.mutable_attr())["T"] = MakeAttr(DT_FLOAT);
    if (bias != nullptr || norm->type_string() == "Mul") {
      // The existing bias (or none) carries the shift; the norm becomes an Identity.
      if (bias != nullptr) {
        ASSIGN_OR_RETURN(Node * folded_bias,
                         AddConstant(graph, UniqueName(*graph, bias->name() + "/folded_bias"),
                                     DeviceOf(*bias), shift));
        // Add(c, P) reads the same as BiasAdd(P, c).
        NodeDef bias_add;
        bias_add.set_op("BiasAdd");
        bias_add.set_device(bias->requested_device());
        (*bias_add.mutable_attr())["T"] = MakeAttr(DT_FLOAT);
        bias_add.add_input(producer->name());
        bias_add.add_input(folded_bias->name());
        for (const Edge* e : bias->in_edges()) {
          if (e->IsControlEdge()) bias_add.add_input(InputName(e));
        }
        if (bias->type_string() == "BiasAdd") *bias_add.mutable_attr() = bias->def().attr();
        ASSIGN_OR_RETURN(bias, graph->ReplaceNode(bias, std::move(bias_add)));
      }
      replacement.set_op("Identity");
      replacement.add_input((bias != nullptr ? bias : producer)->name());
    } else {
      ASSIGN_OR_RETURN(Node * folded_bias,
                       AddConstant(graph, UniqueName(*graph, norm->name() + "/folded_bias"),
                                   DeviceOf(*norm), shift));
      replacement.set_op("BiasAdd");
      replacement.add_input(producer->name());
      replacement.add_input(folded_bias->name());
    }
    for (const Edge* e : norm->in_edges()) {
      if (e->IsControlEdge()) replacement.add_input(InputName(e));
    }
    return graph->ReplaceNode(norm, std::move(replacement)).status();
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeFoldBatchNormPass() { return std::make_unique<FoldBatchNormPass>(); }

}  // namespace runnel
