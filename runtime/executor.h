// The dataflow executor: runs one partition graph on one device. Each node waits for a
// count of pending inputs; a node whose count reaches zero is ready. Cheap ready nodes
// (and expensive ones when nothing else is ready) run inline on the current thread;
// other expensive ones go to the inter-op pool. The first failing node aborts the step
// and its error carries " [[node NAME (OP) on DEVICE]]".
//
// Conditionals are dataflow: a Switch sends its input to one of two outputs and leaves the
// other dead. A node with a dead input does not run and its outputs are dead too; a Merge
// waits for all its inputs and forwards the live one (dead only if all are); _Send and
// _Recv carry deadness across partitions; a dead fetch is an error.
//
// Per-step state is indexed by item (the graph's live nodes, numbered densely); frames and
// iterations for loops will extend the index, not replace it.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "core/call_frame.h"
#include "core/cancellation.h"
#include "core/graph.h"
#include "core/op_kernel.h"
#include "core/rendezvous.h"
#include "runtime/device.h"
#include "runtime/step_stats.h"

namespace runnel {

struct ExecutorArgs {
  int64_t step_id = 0;
  Rendezvous* rendezvous = nullptr;
  CallFrame* call_frame = nullptr;
  ThreadPool* inter_op_pool = nullptr;  // nullptr: everything runs on the caller's thread
  StepStatsCollector* stats = nullptr;  // set: each node's kernel time is recorded
  // set: a cancellation of the step aborts this run (no node starts after it)
  CancellationManager* cancellation = nullptr;
};

class Executor {
 public:
  using KernelCreator = std::function<absl::StatusOr<std::shared_ptr<OpKernel>>(const Node&)>;
  using DoneCallback = std::function<void(absl::Status)>;

  // `graph` holds only nodes assigned to `device`.
  static absl::StatusOr<std::unique_ptr<Executor>> Create(std::unique_ptr<Graph> graph,
                                                          Device* device,
                                                          const KernelCreator& create_kernel);
  ~Executor();

  // Runs one step; `done` is called exactly once, perhaps before RunAsync returns.
  void RunAsync(const ExecutorArgs& args, DoneCallback done) const;
  absl::Status Run(const ExecutorArgs& args) const;

  const Graph& graph() const { return *graph_; }
  Device* device() const { return device_; }

 private:
  struct OutEdge {
    int dst;
    int dst_slot;    // -1 for a control edge
    int src_output;  // -1 for a control edge
    bool last_use;   // the last consumer of this output: it may take the tensor
    bool src_ref;    // the output is a ref (a variable) ...
    bool dst_ref;    // ... and the consumer takes it as a ref, not as a value
  };
  struct NodeItem {
    std::shared_ptr<OpKernel> kernel;
    const Node* node = nullptr;
    int input_start = 0;
    int num_inputs = 0;
    int num_outputs = 0;
    int initial_pending = 0;
    bool is_async = false;
    bool is_expensive = true;
    // Control flow: how the node treats deadness.
    bool is_switch = false;       // an output it leaves unset is dead
    bool is_merge = false;        // dead inputs reach it as unset slots, not as deadness
    bool runs_when_dead = false;  // Merge, _Send, _Recv: the kernel itself handles deadness
    bool is_retval = false;       // a dead fetch is an error
    bool place_memory = false;    // on a device whose memory is not the host's
    std::vector<OutEdge> out;
    // Read on every run, so kept here rather than behind `node`.
    absl::InlinedVector<DataType, 2> output_types;
    std::vector<bool> output_used;
  };
  // What no run reads unless it needs it is kept outside NodeItem, whose size decides how
  // much of a large graph's items fit in cache.
  struct ColdItem {
    std::vector<int> deref_inputs;  // value inputs fed by a ref: read when the node runs
    std::string error_suffix;       // " [[node NAME (OP) on DEVICE]]"
  };
  // On a device whose memory is not the host's: which inputs and outputs each item's
  // kernel keeps in host memory (empty on other devices).
  struct MemoryTypes {
    std::vector<bool> host_inputs, host_outputs;
  };
  class Step;

  Executor() = default;

  std::unique_ptr<Graph> graph_;
  Device* device_ = nullptr;
  std::vector<NodeItem> items_;
  std::vector<ColdItem> cold_;  // by item, as items_
  const ColdItem& cold(const NodeItem& item) const { return cold_[&item - items_.data()]; }
  std::vector<MemoryTypes> memory_types_;  // by item, as items_, when place_memory
  const MemoryTypes& memory_types(const NodeItem& item) const {
    return memory_types_[&item - items_.data()];
  }
  std::vector<int> roots_;
  int total_inputs_ = 0;
  bool has_refs_ = false;       // any ref-typed edge: steps keep ref slots
  bool has_async_ = false;      // an async kernel (a receive, a queue): steps are cancellable
  bool may_have_dead_ = false;  // a Switch or _Recv: steps track dead nodes
};

}  // namespace runnel
