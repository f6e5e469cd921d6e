// Graph: nodes and edges built from a GraphDef (or node by node from Python), validated
// against the op registry, with dtypes and inferred shapes on every output. The session
// prunes, optimizes, places and partitions Graphs (passes edit them in place); GraphDef is
// only the wire format.
#pragma once

#include <memory>
#include <optional>
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

 private:
  friend class Graph;
  int id = 0;         // in the graph's edge table
  int out_index = 0;  // in src's out_edges()
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
  // Data edges in input order, then control edges.
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
  // def() for a node of another graph: a Const's contents of Graph::kAttachBytes or more
  // are left out and come decoded in `value` (the attached Tensor itself when there is
  // one), for Graph::AttachConstantValue, so copying a graph never copies its weights.
  NodeDef DefForCopy(std::optional<Tensor>* value) const;
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

struct GraphBuildOptions {
  // Run each op's shape function as nodes are added.
  bool infer_shapes = true;
  // Leave the leading dim of placeholders' shapes unknown: a frozen graph's pinned batch
  // size ([100, 784]) is not the only one it serves, so nothing may be folded from it.
  bool free_batch_dim = false;
};

class Graph {
 public:
  explicit Graph(GraphBuildOptions options = {});
  ~Graph();
  Graph(const Graph&) = delete;
  Graph& operator=(const Graph&) = delete;

  // Builds and validates a graph; the nodes may come in any order.
  static absl::StatusOr<std::unique_ptr<Graph>> FromGraphDef(const GraphDef& def,
                                                             GraphBuildOptions options = {});
  // The same from a GraphDef it may consume: the contents of constants of at least
  // kAttachBytes leave `def` decoded and aligned, and the graph holds them attached
  // (AttachConstantValue), so the weights are never held twice.
  static absl::StatusOr<std::unique_ptr<Graph>> FromGraphDefTakingWeights(
      GraphDef def, GraphBuildOptions options = {});
  static constexpr size_t kAttachBytes = 64 << 10;
  // Adds the nodes of `def` (in any order; their inputs may be in `def` or already here).
  // All or nothing: on error the graph is unchanged.
  absl::Status Extend(const GraphDef& def);
  // Adds one node whose inputs exist already. Missing attrs get their defaults, and type
  // and length attrs are inferred from the inputs.
  absl::StatusOr<Node*> AddNode(NodeDef def);
  // A placed node's def says its assigned device (as a partition graph shows it). Without
  // `attached_values`, attached constants keep only their dtype and shape.
  void ToGraphDef(GraphDef* out, bool attached_values = true) const;

  Node* FindNode(const std::string& name) const;
  // Live nodes; ids run below num_node_ids(), and node(id) is nullptr for a removed one.
  int num_nodes() const { return num_live_; }
  int num_node_ids() const { return static_cast<int>(nodes_.size()); }
  Node* node(int id) const { return nodes_[id].get(); }
  // The live nodes in id order: `for (Node* node : graph.nodes())`.
  class NodeRange;
  NodeRange nodes() const;
  // The live nodes, each after its inputs (ids need not be: a replacement comes last).
  std::vector<Node*> TopologicalOrder() const;  // a loop's back edges left out
  // An error naming a Merge whose back edge never came (its NextIteration was not added).
  absl::Status CheckBackEdges() const;

  // Runs every node's shape function again, each after its inputs: for a graph built
  // without shape inference, or one whose edits made more known. Nodes added later infer
  // theirs as they come.
  absl::Status InferShapes();
  // Narrows output `output`'s inferred shape with what its builder knows (Python's
  // Tensor.set_shape): later nodes infer from the merged shape. Errors when they disagree.
  absl::Status RefineOutputShape(Node* node, int output, const PartialShape& shape);

  // Edits, for passes. Each keeps the nodes' defs true to their edges (inputs rewritten),
  // so def() and ToGraphDef describe the graph as it is.
  //
  // Removes `node` and its edges. Its data readers must be removed or rewired too.
  void RemoveNode(Node* node);
  // Makes data input `input` of `dst` read `src`:`output`; the dtypes must agree.
  absl::Status UpdateInput(Node* dst, int input, Node* src, int output);
  // Adds a control edge, unless `dst` already waits for `src`.
  void AddControlEdge(Node* src, Node* dst);
  void RemoveControlEdge(const Edge* edge);
  // Adds `def` (its inputs name nodes in the graph other than `old`) under `old`'s name in
  // its place, on old's assigned device: old's readers read the new node's outputs of the
  // same index.
  absl::StatusOr<Node*> ReplaceNode(Node* old, NodeDef def);
  const VersionDef& versions() const { return versions_; }
  const FunctionDefLibrary& library() const { return library_; }

  // Removes the nodes with id >= `num_node_ids` (the newest ones).
  void TruncateTo(int num_node_ids);
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
  // Const values that shape functions may read (Reshape's shape) are kept decoded.
  void DecodeSmallConstant(Node* node);
  const Edge* AddEdge(Node* src, int src_output, Node* dst, int dst_input);
  void RemoveEdge(const Edge* edge);
  static void SyncInputs(Node* node);

  GraphBuildOptions options_;
  std::vector<std::unique_ptr<Node>> nodes_;
  int num_live_ = 0;
  std::vector<std::unique_ptr<Edge>> edges_;  // nullptr where one was removed
  absl::flat_hash_map<std::string, Node*> by_name_;
  // Loops' back edges whose NextIteration is not added yet, by its name.
  struct BackEdge {
    Node* merge;
    int input;
    int port;
  };
  absl::flat_hash_map<std::string, std::vector<BackEdge>> waiting_back_edges_;
  VersionDef versions_;
  FunctionDefLibrary library_;
};

class Graph::NodeRange {
 public:
  class Iterator {
   public:
    Iterator(const std::unique_ptr<Node>* at, const std::unique_ptr<Node>* end)
        : at_(at), end_(end) {
      Skip();
    }
    Node* operator*() const { return at_->get(); }
    Iterator& operator++() {
      ++at_;
      Skip();
      return *this;
    }
    bool operator!=(const Iterator& other) const { return at_ != other.at_; }

   private:
    void Skip() {
      while (at_ != end_ && *at_ == nullptr) ++at_;
    }
    const std::unique_ptr<Node>* at_;
    const std::unique_ptr<Node>* end_;
  };
  explicit NodeRange(const std::vector<std::unique_ptr<Node>>& nodes)
      : begin_(nodes.data()), end_(nodes.data() + nodes.size()) {}
  Iterator begin() const { return Iterator(begin_, end_); }
  Iterator end() const { return Iterator(end_, end_); }

 private:
  const std::unique_ptr<Node>* begin_;
  const std::unique_ptr<Node>* end_;
};

inline Graph::NodeRange Graph::nodes() const { return NodeRange(nodes_); }

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
