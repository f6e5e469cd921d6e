// Graph: nodes and edges built from a GraphDef (or node by node from Python), validated
// against the op registry, with dtypes and inferred shapes on every output. The runtime
// prunes, places and partitions Graphs; GraphDef is only the wire format.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "core/attr_value.h"
#include "core/op_registry.h"
#include "core/proto/graph.pb.h"
#include "core/tensor.h"

namespace runnel {

inline constexpr int kControlSlot = -1;
// The GraphDef producer version Runnel writes (TensorFlow 1.15's).
inline constexpr int kGraphDefProducerVersion = 134;

class Node;

struct Edge {
  Node* src;
  int src_output;  // kControlSlot for a control edge
  Node* dst;
  int dst_input;  // kControlSlot for a control edge
  bool IsControlEdge() const { return src_output == kControlSlot; }
};

class Node {
 public:
  int id() const { return id_; }
  const std::string& name() const { return def_.name(); }
  const std::string& type_string() const { return def_.op(); }
  const NodeDef& def() const { return def_; }
  const OpDef& op_def() const { return reg_->op_def; }
  const OpRegistration& op_registration() const { return *reg_; }
  AttrSlice attrs() const { return AttrSlice(def_); }

  int num_inputs() const { return static_cast<int>(input_types_.size()); }
  int num_outputs() const { return static_cast<int>(output_types_.size()); }
  DataType input_type(int i) const { return input_types_[i]; }
  DataType output_type(int i) const { return output_types_[i]; }
  const std::vector<DataType>& input_types() const { return input_types_; }
  const std::vector<DataType>& output_types() const { return output_types_; }
  const PartialShape& output_shape(int i) const { return output_shapes_[i]; }

  // The edge feeding data input i.
  const Edge* input_edge(int i) const { return data_in_[i]; }
  const std::vector<const Edge*>& in_edges() const { return in_edges_; }
  const std::vector<const Edge*>& out_edges() const { return out_edges_; }

  // The device the graph asked for ("" if none) and the one the placer chose.
  const std::string& requested_device() const { return def_.device(); }
  const std::string& assigned_device() const { return assigned_device_; }
  void set_assigned_device(std::string device) { assigned_device_ = std::move(device); }

  // The value of a Const node (decoded once, small constants only); nullptr otherwise.
  const Tensor* constant_value() const { return constant_value_.get(); }
  // A large Const's value when the graph holds it decoded (Graph::AttachConstantValue),
  // its def() keeping only the dtype and shape; nullptr otherwise.
  const Tensor* attached_value() const { return attached_value_.get(); }
  // def() with an attached value's contents put back.
  NodeDef FullDef() const;
  // " [[node NAME (OP)]]", appended to errors about this node.
  std::string ErrorSuffix() const;

 private:
  friend class Graph;
  int id_ = -1;
  NodeDef def_;
  const OpRegistration* reg_ = nullptr;
  std::vector<DataType> input_types_, output_types_;
  std::vector<PartialShape> output_shapes_;
  std::vector<const Edge*> data_in_, in_edges_, out_edges_;
  std::string assigned_device_;
  std::unique_ptr<Tensor> constant_value_;
  std::unique_ptr<Tensor> attached_value_;
};

struct GraphOptions {
  // Run each op's shape function as nodes are added.
  bool infer_shapes = true;
};

class Graph {
 public:
  explicit Graph(GraphOptions options = {});
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Builds and validates a graph; the nodes may come in any order.
  static absl::StatusOr<std::unique_ptr<Graph>> FromGraphDef(const GraphDef& def,
                                                             GraphOptions options = {});
  // Adds the nodes of `def` (in any order; their inputs may be in `def` or already here).
  // All or nothing: on error the graph is unchanged.
  absl::Status Extend(const GraphDef& def);
  // Adds one node whose inputs exist already. Missing attrs get their defaults, and type
  // and length attrs are inferred from the inputs.
  absl::StatusOr<Node*> AddNode(NodeDef def);
  void ToGraphDef(GraphDef* out) const;

  Node* FindNode(const std::string& name) const;
  int num_nodes() const { return static_cast<int>(nodes_.size()); }
  Node* node(int id) const { return nodes_[id].get(); }
  const VersionDef& versions() const { return versions_; }
  const FunctionDefLibrary& library() const { return library_; }

  // Removes the nodes with id >= `num_nodes` (the newest ones).
  void TruncateTo(int num_nodes);
  // Drops the contents of Const node `node`'s value (dtype and shape stay): for a graph
  // whose kernels hold the values already, so the weights are not kept twice.
  void ReleaseConstantValue(Node* node);
  // Makes `value` the value of Const `name`, whose def holds its dtype and shape but no
  // contents (TakeLargeConstants took them): the session's kernels then output that Tensor
  // (DirectSession), so a loaded model keeps its weights once. FullDef and ToGraphDef put
  // the contents back for readers of defs.
  absl::Status AttachConstantValue(const std::string& name, Tensor value);

 private:
  absl::Status Validate(Node* node, std::vector<std::pair<Node*, int>>* data_inputs,
                        std::vector<Node*>* control_inputs);
  void Connect(Node* node, const std::vector<std::pair<Node*, int>>& data_inputs,
               const std::vector<Node*>& control_inputs);
  absl::Status InferShapes(Node* node);

  GraphOptions options_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<Edge>> edges_;
  absl::flat_hash_map<std::string, Node*> by_name_;
  VersionDef versions_;
  FunctionDefLibrary library_;
};

// Splits "name:port" / "name" / "^name" into its parts; port is kControlSlot for "^name".
struct TensorId {
  std::string node;
  int port = 0;
  std::string ToString() const;
};
absl::StatusOr<TensorId> ParseTensorName(const std::string& input);

// Moves the raw contents of each Const in `def` holding at least `min_bytes` out of it,
// decoded into aligned Tensors (by node name), for Graph::AttachConstantValue; the defs keep
// dtype and shape. Each string is freed as soon as it is decoded, so the weights are never
// held three times over.
std::vector<std::pair<std::string, Tensor>> TakeLargeConstants(GraphDef* def, size_t min_bytes);

}  // namespace runnel
