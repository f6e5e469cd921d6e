// Graph optimization passes. Each pass is a named object that rewrites a GraphDef in place
// and keeps every value the graph's users can observe: the nodes in `keep` (a step's _Arg
// and _Retval nodes and targets, or a frozen graph's inputs and outputs) keep their names
// and outputs, and stateful nodes are never merged, folded or moved. Results stay equal to
// the unoptimized graph's within float rounding.
//
// The passes work on GraphDef rather than Graph because they delete and rewire nodes; a
// pass that needs dtypes or shapes builds a Graph from the GraphDef first. GraphIndex gives
// the name lookups and consumer lists they share.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "core/graph.h"

namespace runnel {

// Computes the only output of `node` from its input values with its kernel (on a device
// the caller chose): how constant folding evaluates.
using NodeEvaluator =
    std::function<absl::StatusOr<Tensor>(const Node& node, std::vector<Tensor> inputs)>;

struct PassContext {
  absl::flat_hash_set<std::string> keep;
  NodeEvaluator evaluate;  // empty: no constant folding
};

class GraphPass {
 public:
  virtual ~GraphPass() = default;
  virtual const char* name() const = 0;
  virtual absl::Status Run(const PassContext& ctx, GraphDef* graph) = 0;
};

// One input of a node: "name", "name:port" or "^name" (port kControlSlot); core's
// ParseTensorName for inputs of a graph already validated.
TensorId ParseInput(const std::string& input);
// "name" for port 0, "name:port" otherwise, "^name" for kControlSlot.
std::string InputName(const std::string& node, int port);

// Name lookup and consumer lists over a GraphDef, plus the edits passes make. Removed
// nodes disappear at Compact(); rewiring keeps the consumer lists current.
class GraphIndex {
 public:
  explicit GraphIndex(GraphDef* graph);

  NodeDef* Find(const std::string& name) const;
  // (consumer, input position) for every input that reads `name` (any port or control).
  const std::vector<std::pair<NodeDef*, int>>& Consumers(const std::string& name) const;

  // Points every reader of `name`:`port` at `replacement` (a tensor name); with port
  // kControlSlot, every control reader of `name` at `replacement` ("^node"), or drops
  // them when `replacement` is empty or already among the reader's inputs.
  void Rewire(const std::string& name, int port, const std::string& replacement);
  // Sets input `index` of `node`, or appends one (keeps consumer lists right).
  void SetInput(NodeDef* node, int index, const std::string& input);
  void AddInput(NodeDef* node, const std::string& input);
  void Remove(const std::string& name) { removed_.insert(name); }
  bool IsRemoved(const std::string& name) const { return removed_.contains(name); }
  // Adds a node under a new name; returns it.
  NodeDef* Add(NodeDef node);
  // Puts `node` in place of the node of the same name (whose readers now read it).
  NodeDef* Replace(NodeDef node);
  // Deletes the removed nodes from the GraphDef. The index is invalid afterwards.
  void Compact();

  // Node names in an order where every node comes after its inputs.
  std::vector<std::string> TopologicalOrder() const;

 private:
  void Index();
  GraphDef* graph_;
  absl::flat_hash_map<std::string, NodeDef*> by_name_;
  absl::flat_hash_map<std::string, std::vector<std::pair<NodeDef*, int>>> consumers_;
  absl::flat_hash_set<std::string> removed_;
};

// `graph` as a Graph with dtypes and inferred shapes, its placeholders' leading dim unknown
// (a frozen graph's pinned batch size, [100, 784], is not the only one it serves).
absl::StatusOr<std::unique_ptr<Graph>> TypedGraph(const GraphDef& graph);
// The value of a Const node without inputs (a free constant); nullptr otherwise.
const TensorProto* FreeConstant(const NodeDef* node);
// A Const node holding `value`.
NodeDef ConstNodeDef(const std::string& name, const std::string& device, const Tensor& value);
// Stateful by its op's definition (or an op the registry does not know).
bool IsStateful(const NodeDef& node);
// The node has no data_format attr or it is NHWC.
bool IsNhwcOrAbsent(const NodeDef& node);

// The passes, in the order OptimizeGraph runs them.
std::unique_ptr<GraphPass> MakeIdentityEliminationPass();
std::unique_ptr<GraphPass> MakeConstantFoldingPass();
std::unique_ptr<GraphPass> MakeCommonSubexpressionPass();
std::unique_ptr<GraphPass> MakeFoldBatchNormPass();
std::unique_ptr<GraphPass> MakeFuseBiasActivationPass();
std::unique_ptr<GraphPass> MakePruneDeadNodesPass();

}  // namespace runnel
