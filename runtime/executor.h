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
// Loops are frames, as in TensorFlow: Enter moves a tensor into iteration 0 of a child
// frame (every iteration when is_constant), NextIteration into the next iteration, Exit back
// to the frame around. A Merge runs on its first live input (a loop variable comes from
// Enter, then from NextIteration) or dead once all its inputs are dead. Up to an Enter's
// parallel_iterations iterations of a frame run at once; a frame ends when its iterations
// have, and its Exits that never carried a live value then send dead tensors outward.
//
// Per-step state is indexed by item (the graph's live nodes, numbered densely) within an
// Iteration: the step's own, or one iteration of one run of a loop's frame.
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
    int local = 0;        // its index among its frame's items (an iteration's state)
    int input_start = 0;  // where its inputs start among its frame's
    int num_inputs = 0;
    int num_outputs = 0;
    int initial_pending = 0;
    bool is_async = false;
    bool is_expensive = true;
    // Control flow: how the node treats deadness.
    bool is_switch = false;       // an output it leaves unset is dead
    bool is_merge = false;        // runs on its first live input, dead ones as unset slots
    bool runs_when_dead = false;  // Merge, _Send, _Recv, ControlTrigger: the kernel handles it
    bool is_retval = false;       // a dead fetch is an error
    bool place_memory = false;    // on a device whose memory is not the host's
    // Loops: how the node's outputs leave its frame (ColdItem::frame). Bits, so that an
    // item stays as small as without loops.
    bool is_enter : 1;           // into iteration 0 of its frame (from the parent's)
    bool is_constant_enter : 1;  // ... and into every later iteration
    bool is_exit : 1;            // to the parent frame's iteration
    bool is_next_iteration : 1;  // to the next iteration of its frame
    bool feeds_enter : 1;        // some consumer is an Enter (of a child frame)
    bool needs_frames : 1;       // any of the above: its outputs need the frames' lock
    bool is_transfer : 1;        // _Send or _Recv: its key names the frame and iteration
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
    int frame = 0;                  // the loop frame the node runs in (0: the step's)
  };
  // On a device whose memory is not the host's: which inputs and outputs each item's
  // kernel keeps in host memory (empty on other devices).
  struct MemoryTypes {
    std::vector<bool> host_inputs, host_outputs;
  };
  // A loop's frame, as the graph declares it (frames_[0] is the step itself).
  struct FrameInfo {
    std::string name;
    int parent = -1;
    int parallel_iterations = 10;
    int num_enters = 0;
    std::vector<int> exits;  // items
    // What one iteration of the frame holds: its items' state and their inputs.
    int num_items = 0, num_inputs = 0;
    std::vector<int> initial_pending;  // by NodeItem::local
  };
  class Step;
  static absl::Status AnalyzeFrames(Executor* exec);

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
  bool has_refs_ = false;       // any ref-typed edge: steps keep ref slots
  bool has_async_ = false;      // an async kernel (a receive, a queue): steps are cancellable
  bool may_have_dead_ = false;  // a Switch or _Recv: steps track dead nodes
  std::vector<FrameInfo> frames_;
  bool has_loops_ = false;   // frames beyond the step's
  bool has_merges_ = false;  // steps count Merges' dead inputs
};

}  // namespace runnel
