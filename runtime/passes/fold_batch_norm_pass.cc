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
  const NodeDef* producer = nullptr;
  const TensorProto* proto = nullptr;
  int64_t num_elements = 0;
  int64_t channels = 0;
  int output_rank = 4;         // of the producer's output
  bool channel_major = false;  // MatMul with transpose_b: [N, K]
  int64_t Channel(int64_t i) const {
    return channel_major ? i / (num_elements / channels) : i % channels;
  }
};

bool ReadWeights(const GraphIndex& index, const NodeDef& producer, Weights* w) {
  const std::string& op = producer.op();
  if (op != "Conv2D" && op != "DepthwiseConv2dNative" && op != "MatMul") return false;
  if (!IsNhwcOrAbsent(producer) || producer.input_size() < 2) return false;
  const TensorId filter = ParseInput(producer.input(1));
  const TensorProto* proto = FreeConstant(index.Find(filter.node));
  if (proto == nullptr || filter.port != 0) return false;
  auto shape_or = TensorShape::FromProto(proto->tensor_shape());
  if (!shape_or.ok() || proto->dtype() != DT_FLOAT || shape_or->num_elements() == 0) return false;
  const TensorShape& shape = *shape_or;
  w->producer = &producer;
  w->proto = proto;
  w->num_elements = shape.num_elements();
  if (op == "MatMul") {
    auto tb = producer.attr().find("transpose_b");
    w->channel_major = tb != producer.attr().end() && tb->second.b();
    w->output_rank = 2;
    w->channels = shape.dims() == 2 ? shape.dim_size(w->channel_major ? 0 : 1) : 0;
  } else if (shape.dims() == 4) {
    w->channels = op == "Conv2D" ? shape.dim_size(3) : shape.dim_size(2) * shape.dim_size(3);
  }
  return w->channels > 0;
}

// The single data reader of `node`'s output 0, or nullptr (several, or control readers,
// or other outputs read).
NodeDef* OnlyReader(const GraphIndex& index, const NodeDef& node) {
  const auto& readers = index.Consumers(node.name());
  if (readers.size() != 1 || ParseInput(readers[0].first->input(readers[0].second)).port != 0) {
    return nullptr;
  }
  return readers[0].first;
}

// A per-channel (or scalar) float constant read by `node` besides `from`: the values, one
// per channel.
bool ChannelConstant(const GraphIndex& index, const NodeDef& node, const std::string& from,
                     int64_t channels, int rank, std::vector<float>* values) {
  if (node.input_size() != 2) return false;
  const int other = ParseInput(node.input(0)).node == from ? 1 : 0;
  const TensorId id = ParseInput(node.input(other));
  if (id.node == from || id.port != 0) return false;
  const TensorProto* proto = FreeConstant(index.Find(id.node));
  if (proto == nullptr) return false;
  auto value = Tensor::FromProto(*proto);
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

bool IsBias(const NodeDef& node) {
  return (node.op() == "BiasAdd" && IsNhwcOrAbsent(node)) || node.op() == "Add" ||
         node.op() == "AddV2";
}

std::string UniqueName(const GraphIndex& index, const std::string& base) {
  std::string name = base;
  for (int k = 1; index.Find(name) != nullptr; ++k) name = absl::StrCat(base, "_", k);
  return name;
}

class FoldBatchNormPass : public GraphPass {
 public:
  const char* name() const override { return "fold_batch_norm"; }

  absl::Status Run(const PassContext& ctx, GraphDef* graph) override {
    GraphIndex index(graph);
    for (const std::string& name : index.TopologicalOrder()) {
      NodeDef* producer = index.Find(name);
      Weights w;
      if (producer == nullptr || ctx.keep.contains(name) || !ReadWeights(index, *producer, &w)) {
        continue;
      }
      NodeDef* next = OnlyReader(index, *producer);
      if (next == nullptr) continue;
      NodeDef* bias = nullptr;
      std::vector<float> b(w.channels, 0.0f);
      if (IsBias(*next) && !ctx.keep.contains(next->name()) &&
          ChannelConstant(index, *next, name, w.channels, w.output_rank, &b)) {
        bias = next;
        next = OnlyReader(index, *bias);
        if (next == nullptr) continue;
      }
      std::vector<float> s, t;
      if (!ScaleAndShift(index, *next, bias ? bias->name() : name, w, &s, &t)) continue;
      if (!Fold(&index, w, bias, *next, s, t, b)) continue;
    }
    index.Compact();
    return absl::OkStatus();
  }

 private:
  // The factor and shift `norm` applies per channel, if it is an inference batch norm or a
  // Mul by constants.
  static bool ScaleAndShift(const GraphIndex& index, const NodeDef& norm, const std::string& from,
                            const Weights& w, std::vector<float>* s, std::vector<float>* t) {
    const int64_t channels = w.channels;
    if (norm.op() == "Mul") {
      t->assign(channels, 0.0f);
      return ChannelConstant(index, norm, from, channels, w.output_rank, s);
    }
    if (norm.op() != "FusedBatchNorm" && norm.op() != "FusedBatchNormV2" &&
        norm.op() != "FusedBatchNormV3") {
      return false;
    }
    auto training = norm.attr().find("is_training");
    if ((training != norm.attr().end() && training->second.b()) || !IsNhwcOrAbsent(norm) ||
        norm.input_size() < 5 || ParseInput(norm.input(0)).node != from) {
      return false;
    }
    for (const auto& [reader, i] : index.Consumers(norm.name())) {
      if (ParseInput(reader->input(i)).port != 0) return false;  // batch statistics read
    }
    std::vector<std::vector<float>> params(4);
    for (int k = 0; k < 4; ++k) {
      const TensorId id = ParseInput(norm.input(k + 1));
      const TensorProto* proto = FreeConstant(index.Find(id.node));
      if (proto == nullptr || id.port != 0) return false;
      auto value = Tensor::FromProto(*proto);
      if (!value.ok() || value->dtype() != DT_FLOAT || value->NumElements() != channels) {
        return false;
      }
      params[k].assign(value->data<float>(), value->data<float>() + channels);
    }
    auto eps = norm.attr().find("epsilon");
    const float epsilon = eps == norm.attr().end() ? 1e-4f : eps->second.f();
    s->resize(channels);
    t->resize(channels);
    for (int64_t c = 0; c < channels; ++c) {
      (*s)[c] = params[0][c] / std::sqrt(params[3][c] + epsilon);
      (*t)[c] = params[1][c] - params[2][c] * (*s)[c];
    }
    return true;
  }

  // Returns false, having changed nothing, when the weights do not decode.
  static bool Fold(GraphIndex* index, const Weights& w, NodeDef* bias, const NodeDef& norm,
                   const std::vector<float>& s, const std::vector<float>& t,
                   const std::vector<float>& b) {
    auto decoded = Tensor::FromProto(*w.proto);
    if (!decoded.ok()) return false;
    Tensor weights = *std::move(decoded);
    float* data = weights.data<float>();
    for (int64_t i = 0; i < weights.NumElements(); ++i) data[i] *= s[w.Channel(i)];
    Tensor shift(DT_FLOAT, TensorShape{w.channels});
    for (int64_t c = 0; c < w.channels; ++c) shift.data<float>()[c] = b[c] * s[c] + t[c];

    NodeDef* producer = index->Find(w.producer->name());
    const std::string weights_name = UniqueName(*index, producer->name() + "/folded_weights");
    index->Add(ConstNodeDef(weights_name, producer->device(), weights));
    index->SetInput(producer, 1, weights_name);
    const bool is_mul = norm.op() == "Mul";
    NodeDef replacement;
    replacement.set_name(norm.name());
    replacement.set_device(norm.device());
    (*replacement.mutable_attr())["T"] = MakeAttr(DT_FLOAT);
    if (bias != nullptr || is_mul) {
      // The existing bias (or none) carries the shift; the norm becomes an Identity.
      if (bias != nullptr) {
        const std::string bias_name = UniqueName(*index, bias->name() + "/folded_bias");
        index->Add(ConstNodeDef(bias_name, bias->device(), shift));
        const int other = ParseInput(bias->input(0)).node == producer->name() ? 1 : 0;
        index->SetInput(bias, other, bias_name);
        if (bias->op() != "BiasAdd") {  // Add(c, P) reads the same as BiasAdd(P, c)
          bias->set_op("BiasAdd");
          if (other == 0) {
            index->SetInput(bias, 0, producer->name());
            index->SetInput(bias, 1, bias_name);
          }
        }
      }
      replacement.set_op("Identity");
      replacement.add_input(bias != nullptr ? bias->name() : producer->name());
    } else {
      const std::string bias_name = UniqueName(*index, norm.name() + "/folded_bias");
      index->Add(ConstNodeDef(bias_name, norm.device(), shift));
      replacement.set_op("BiasAdd");
      replacement.add_input(producer->name());
      replacement.add_input(bias_name);
    }
    for (const std::string& input : norm.input()) {
      if (input[0] == '^') replacement.add_input(input);
    }
    index->Replace(std::move(replacement));
    return true;
  }
};

}  // namespace

std::unique_ptr<GraphPass> MakeFoldBatchNormPass() { return std::make_unique<FoldBatchNormPass>(); }

}  // namespace runnel
