// Runnel's C++ inference API: load a frozen graph, see its inputs and outputs, run it.
// Installed as <runnel/inference.h>; it needs only the C++17 standard library and Abseil.
//
//   auto model = runnel::Model::Load("frozen.pb");
//   if (!model.ok()) { std::cerr << model.status() << "\n"; return 1; }
//   runnel::HostTensor x(runnel::ElementType::kFloat, {1, 784});
//   std::fill_n(x.data<float>(), 784, 0.5f);
//   auto outputs = (*model)->Run({{"x", x}});   // the graph's outputs, in outputs() order
//
// Run is thread-safe: one loaded model serves concurrent calls. Errors are absl::Status
// values whose messages name the node or input and what was expected.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace runnel {

// Element types, numbered as TensorFlow's DataType enum.
enum class ElementType : int {
  kFloat = 1,
  kDouble = 2,
  kInt32 = 3,
  kUInt8 = 4,
  kInt16 = 5,
  kInt8 = 6,
  kString = 7,
  kInt64 = 9,
  kBool = 10,
  kUInt16 = 17,
};
const char* ElementTypeName(ElementType type);  // "float32", "int64", ...
int ElementSize(ElementType type);              // bytes; 0 for kString

// A dense tensor in host memory. Copies share the buffer.
class HostTensor {
 public:
  HostTensor() = default;
  // Zero-filled.
  HostTensor(ElementType type, std::vector<int64_t> shape);
  // Wraps `data`, kept alive by `owner` (no copy).
  HostTensor(ElementType type, std::vector<int64_t> shape, std::shared_ptr<void> owner, void* data);

  ElementType type() const { return type_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t num_elements() const;
  size_t num_bytes() const { return static_cast<size_t>(num_elements()) * ElementSize(type_); }
  void* raw_data() const { return data_; }
  template <typename T>
  T* data() const {
    return static_cast<T*>(data_);
  }
  const std::shared_ptr<void>& owner() const { return owner_; }

 private:
  ElementType type_ = ElementType::kFloat;
  std::vector<int64_t> shape_;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
};

// An input or output of a model: -1 in `shape` is a dim of any size; `rank_known` false
// when nothing is known of the shape.
struct TensorSpec {
  std::string name;  // a node name for inputs ("x"), a tensor name for outputs ("y:0")
  ElementType type = ElementType::kFloat;
  std::vector<int64_t> shape;
  bool rank_known = true;
};

struct ModelOptions {
  // Session options (runtime/session_options.h): "intra_op_parallelism_threads",
  // "graph_optimization_level", ...
  std::map<std::string, std::string> session_options;
};

// Per-node kernel times of one Run (see Model::Run).
struct NodeTiming {
  std::string node, op;
  double milliseconds = 0;
  int64_t flops = 0;  // MatMul and convolutions; 0 for other ops
  std::string device;
  int64_t start_ns = 0;  // wall clock, since the epoch
};

// One Run's timings in Chrome's trace event format (JSON: chrome://tracing, Perfetto): a
// row of op events per device, overlapping ones on rows of their own.
std::string ChromeTrace(const std::vector<NodeTiming>& timings);

class Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Load(const std::string& path,
                                                     const ModelOptions& options = {});
  // From a serialized GraphDef (binary or text format).
  static absl::StatusOr<std::unique_ptr<Model>> FromBytes(std::string_view bytes,
                                                          const ModelOptions& options = {});
  ~Model();

  // The placeholders, and the outputs: nodes nothing reads (Const, NoOp, Assign excluded).
  const std::vector<TensorSpec>& inputs() const { return inputs_; }
  const std::vector<TensorSpec>& outputs() const { return outputs_; }

  // Feeds `inputs` (by input name) and returns `output_names` (tensor names, "y" or "y:1";
  // empty: outputs()). With `timings`, each node's kernel time is appended there.
  absl::StatusOr<std::vector<HostTensor>> Run(
      const std::vector<std::pair<std::string, HostTensor>>& inputs,
      const std::vector<std::string>& output_names = {},
      std::vector<NodeTiming>* timings = nullptr) const;

 private:
  struct Impl;
  Model();
  std::unique_ptr<Impl> impl_;
  std::vector<TensorSpec> inputs_, outputs_;
};

}  // namespace runnel
