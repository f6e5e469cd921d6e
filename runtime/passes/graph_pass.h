// Graph optimization passes. Each pass is a named object that rewrites a Graph in place
// (with core/graph's edits) and keeps every value the graph's users can observe: the nodes
// in `keep` (a step's _Arg and _Retval nodes and targets, or a frozen graph's inputs and
// outputs) keep their names and outputs, and stateful nodes are never merged, folded or
// moved. Results stay equal to the unoptimized graph's within float rounding. A pass that
// reads shapes infers them again first (Graph::InferShapes), since earlier rewrites may
// have made more of them known.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

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
  virtual absl::Status Run(const PassContext& ctx, Graph* graph) = 0;
};

// The tensor an edge carries, as a NodeDef input names it ("node", "node:1", "^node").
std::string InputName(const Edge* edge);
// The live node ids each after its inputs: passes walk them, skipping ids whose node a
// rewrite removed (graph.node(id) is then nullptr).
std::vector<int> TopologicalIds(const Graph& graph);
// Points every reader of `from` at `to`: a data reader of output i reads `to`'s output
// `first_output + i`, a control reader waits for `to`.
absl::Status MoveReaders(Graph* graph, Node* from, Node* to, int first_output = 0);
// The value proto of a Const without inputs (a free constant): dtype and shape, and the
// contents unless the graph holds them attached; nullptr for any other node.
const TensorProto* FreeConstant(const Node* node);
// A free constant's value (shared with the graph when attached); an error otherwise.
absl::StatusOr<Tensor> FreeConstantValue(const Node* node);
// Adds a Const `name` holding `value`, in place of `replaced` when given (see
// Graph::ReplaceNode). A value of Graph::kAttachBytes or more is attached to the node, not
// encoded into its def (and decoded again by its kernel).
absl::StatusOr<Node*> AddConstant(Graph* graph, const std::string& name, const std::string& device,
                                  const Tensor& value, Node* replaced = nullptr);
// Where the node runs: its assigned device (a session's step graph is placed before its
// passes run), else the one it asks for.
const std::string& DeviceOf(const Node& node);
// The device type DeviceOf names ("CPU", "GPU"); "CPU" when it names none (a frozen graph
// optimized outside a session runs on the host).
std::string DeviceTypeOf(const Node& node);
// The node has no data_format attr or it is NHWC.
bool IsNhwcOrAbsent(const Node& node);

// The passes, in the order OptimizeGraph runs them.
std::unique_ptr<GraphPass> MakeIdentityEliminationPass();
std::unique_ptr<GraphPass> MakeConstantFoldingPass();
std::unique_ptr<GraphPass> MakeCommonSubexpressionPass();
std::unique_ptr<GraphPass> MakeFoldBatchNormPass();
std::unique_ptr<GraphPass> MakeFuseBiasActivationPass();
std::unique_ptr<GraphPass> MakePruneDeadNodesPass();

}  // namespace runnel
