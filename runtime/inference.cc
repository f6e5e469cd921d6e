#include "runtime/inference.h"

#include <malloc.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/file_util.h"
#include "core/graph_io.h"
#include "core/status.h"
#include "runtime/direct_session.h"
#include "runtime/model_signature.h"

namespace runnel {

const char* ElementTypeName(ElementType type) {
  switch (type) {
    case ElementType::kFloat:
      return "float32";
    case ElementType::kDouble:
      return "float64";
    case ElementType::kInt32:
      return "int32";
    case ElementType::kUInt8:
      return "uint8";
    case ElementType::kInt16:
      return "int16";
    case ElementType::kInt8:
      return "int8";
    case ElementType::kString:
      return "string";
    case ElementType::kInt64:
      return "int64";
    case ElementType::kBool:
      return "bool";
    case ElementType::kUInt16:
      return "uint16";
  }
  return "unknown";
}

int ElementSize(ElementType type) { return DataTypeSize(static_cast<DataType>(type)); }

HostTensor::HostTensor(ElementType type, std::vector<int64_t> shape)
    : type_(type), shape_(std::move(shape)) {
  const size_t bytes = std::max<size_t>(num_bytes(), 1);
  std::shared_ptr<char[]> buffer(new char[bytes]());
  data_ = buffer.get();
  owner_ = std::move(buffer);
}

HostTensor::HostTensor(ElementType type, std::vector<int64_t> shape, std::shared_ptr<void> owner,
                       void* data)
    : type_(type), shape_(std::move(shape)), owner_(std::move(owner)), data_(data) {}

int64_t HostTensor::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

struct Model::Impl {
  // The model for a parsed graph (Load and FromBytes share it).
  static absl::StatusOr<std::unique_ptr<Model>> Build(GraphDef def, const ModelOptions& options);

  std::unique_ptr<DirectSession> session;
};

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::~Model() = default;

absl::StatusOr<std::unique_ptr<Model>> Model::Load(const std::string& path,
                                                   const ModelOptions& options) {
  const std::string loading = absl::StrCat(" (loading '", path, "')");
  GraphDef def;
  {
    ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path, "model file"));
    auto parsed = ParseGraphDefAnyFormat(bytes);
    if (!parsed.ok()) return AppendToMessage(parsed.status(), loading);
    def = *std::move(parsed);
  }  // the file's bytes are freed before the model is built
  auto model = Impl::Build(std::move(def), options);
  if (!model.ok()) return AppendToMessage(model.status(), loading);
  return model;
}

absl::StatusOr<std::unique_ptr<Model>> Model::FromBytes(std::string_view bytes,
                                                        const ModelOptions& options) {
  ASSIGN_OR_RETURN(GraphDef def,
                   ParseGraphDefAnyFormat(absl::string_view(bytes.data(), bytes.size())));
  return Impl::Build(std::move(def), options);
}

absl::StatusOr<std::unique_ptr<Model>> Model::Impl::Build(GraphDef def,
                                                          const ModelOptions& options) {
  const std::vector<std::string> input_names = InputNodes(def);
  const std::vector<std::string> output_names = OutputNodes(def);
  // The Graph holds the weights decoded and aligned, and the Const kernels share them
  // (held once, read at full speed).
  ASSIGN_OR_RETURN(std::unique_ptr<Graph> graph, Graph::FromGraphDefTakingWeights(std::move(def)));
  std::unique_ptr<Model> model(new Model);
  auto spec = [&](const std::string& name, const Node* node, int port) {
    TensorSpec s;
    s.name = name;
    s.type = static_cast<ElementType>(BaseType(node->output_type(port)));
    const PartialShape& shape = node->output_shape(port);
    s.rank_known = !shape.unknown_rank();
    s.shape.assign(shape.dims().begin(), shape.dims().end());
    return s;
  };
  for (const std::string& name : input_names) {
    model->inputs_.push_back(spec(name, graph->FindNode(name), 0));
  }
  for (const std::string& name : output_names) {
    const Node* node = graph->FindNode(name);
    for (int port = 0; port < node->num_outputs(); ++port) {
      model->outputs_.push_back(spec(absl::StrCat(name, ":", port), node, port));
    }
  }
  ASSIGN_OR_RETURN(model->impl_->session,
                   DirectSession::Create(std::shared_ptr<Graph>(std::move(graph)),
                                         SessionOptions(options.session_options)));
  malloc_trim(0);  // the parsed GraphDef is gone: give its pages back
  return model;
}

absl::StatusOr<std::vector<HostTensor>> Model::Run(
    const std::vector<std::pair<std::string, HostTensor>>& inputs,
    const std::vector<std::string>& output_names, std::vector<NodeTiming>* timings) const {
  std::vector<std::pair<std::string, Tensor>> feeds;
  for (const auto& [name, value] : inputs) {
    const bool known =
        std::any_of(inputs_.begin(), inputs_.end(),
                    [&input = name](const TensorSpec& s) { return s.name == input; });
    if (!known) {
      std::vector<std::string> names;
      for (const TensorSpec& s : inputs_) names.push_back(s.name);
      return absl::InvalidArgumentError(absl::StrCat(
          "the model has no input '", name, "'; its inputs are: ", absl::StrJoin(names, ", ")));
    }
    if (ElementSize(value.type()) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("input '", name, "' has element type ",
                                                     ElementTypeName(value.type()),
                                                     ", which the C++ API does not feed"));
    }
    auto shape = TensorShape::FromDims(value.shape());
    if (!shape.ok()) return AppendToMessage(shape.status(), absl::StrCat(" (input '", name, "')"));
    feeds.emplace_back(name, Tensor::Wrap(static_cast<DataType>(value.type()), *shape,
                                          value.owner(), value.raw_data()));
  }
  std::vector<std::string> fetches = output_names;
  if (fetches.empty()) {
    for (const TensorSpec& s : outputs_) fetches.push_back(s.name);
  }
  StepStatsCollector stats;
  std::vector<Tensor> results;
  RETURN_IF_ERROR(
      impl_->session->Run(feeds, fetches, {}, &results, timings != nullptr ? &stats : nullptr));
  std::vector<HostTensor> outputs;
  for (const Tensor& result : results) {
    const Tensor t = result.Unshared();  // the caller may write into it
    const auto dims = t.shape().dim_sizes();
    auto owner = std::make_shared<Tensor>(t);
    outputs.emplace_back(static_cast<ElementType>(t.dtype()),
                         std::vector<int64_t>(dims.begin(), dims.end()), owner, t.raw_data());
  }
  if (timings != nullptr) {
    for (NodeRunStats& s : stats.Take()) {
      timings->push_back({s.node, s.op, s.elapsed_ns / 1e6,
                          EstimateFlops(s.op, s.input_shapes, s.output_shape()), s.device,
                          s.start_ns});
    }
  }
  return outputs;
}

std::string ChromeTrace(const std::vector<NodeTiming>& timings) {
  std::vector<NodeRunStats> nodes;
  for (const NodeTiming& t : timings) {
    NodeRunStats n;
    n.node = t.node;
    n.op = t.op;
    n.device = t.device;
    n.start_ns = t.start_ns;
    n.elapsed_ns = static_cast<int64_t>(t.milliseconds * 1e6);
    nodes.push_back(std::move(n));
  }
  return ChromeTrace(ToStepStats(nodes));
}

}  // namespace runnel
