#include "runtime/executor.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>

#include "absl/base/attributes.h"
#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/kernel_registry.h"
#include "core/status.h"

namespace runnel {
namespace {

// Nodes that touch fewer elements than this run inline even if their kernel is expensive:
// handing them to another thread would cost more than running them.
constexpr int64_t kInlineInputElements = 1 << 14;

// How deep this thread is in executor work (running nodes, finishing an asynchronous one).
// An asynchronous kernel's callback that comes at depth 0 came from a thread that runs no
// node (a transport's I/O thread, a session's caller), which may go on with the graph;
// deeper, it may be inside another node's Send, and the graph goes on on the pool.
thread_local int executor_depth = 0;

struct DepthScope {
  DepthScope() { ++executor_depth; }
  ~DepthScope() { --executor_depth; }
};

}  // namespace

absl::StatusOr<std::unique_ptr<Executor>> Executor::Create(std::unique_ptr<Graph> graph,
                                                           Device* device,
                                                           const KernelCreator& create_kernel) {
  RETURN_IF_ERROR(graph->CheckBackEdges());
  std::unique_ptr<Executor> exec(new Executor);
  exec->device_ = device;
  // Items are numbered densely (a pass may have removed nodes from the graph).
  std::vector<int> item_of(graph->num_node_ids(), -1);
  std::vector<Node*> nodes;
  for (Node* node : graph->nodes()) {
    item_of[node->id()] = static_cast<int>(nodes.size());
    nodes.push_back(node);
  }
  exec->items_.resize(nodes.size());
  exec->cold_.resize(nodes.size());
  if (!device->HostMemory()) exec->memory_types_.resize(nodes.size());
  // Errors name the device briefly; a cluster's task is part of the name that matters.
  const DeviceName& full = device->parsed_name();
  const bool in_cluster = full.job != "localhost";
  std::string device_short = DeviceName{in_cluster ? full.job : "", -1, in_cluster ? full.task : -1,
                                        device->device_type(), full.id}
                                 .ToString();
  for (size_t id = 0; id < nodes.size(); ++id) {
    Node* node = nodes[id];
    NodeItem& item = exec->items_[id];
    ColdItem& cold = exec->cold_[id];
    item.node = node;
    cold.error_suffix = absl::StrCat(" [[node ", node->name(), " (", node->type_string(), ") on ",
                                     device_short, "]]");
    auto kernel = create_kernel(*node);
    if (!kernel.ok()) return AppendToMessage(kernel.status(), cold.error_suffix);
    item.kernel = *std::move(kernel);
    // The Const kernel holds the value now; the executor's graph need not hold it too.
    if (node->type_string() == "Const") graph->ReleaseConstantValue(node);
    item.num_inputs = node->num_inputs();
    item.num_outputs = node->num_outputs();
    item.initial_pending = static_cast<int>(node->in_edges().size());
    item.is_async = item.kernel->IsAsync();
    exec->has_async_ = exec->has_async_ || item.is_async;
    item.is_expensive = item.kernel->IsExpensive();
    const std::string& op = node->type_string();
    item.is_switch = op == "Switch";
    item.is_merge = op == "Merge";
    item.is_transfer = op == "_Send" || op == "_Recv";
    item.runs_when_dead = item.is_merge || item.is_transfer || op == "ControlTrigger";
    item.is_retval = op == "_Retval";
    item.is_enter = op == "Enter" || op == "RefEnter";
    item.is_constant_enter = false;
    item.feeds_enter = false;
    item.needs_frames = false;
    item.is_exit = op == "Exit";
    item.is_next_iteration = op == "NextIteration";
    if (item.is_enter) {
      bool is_constant = false;
      RETURN_IF_ERROR(node->attrs().Get("is_constant", &is_constant));
      item.is_constant_enter = is_constant;
    }
    if (item.is_merge) {
      // A merge waits for its control inputs (2 each) and its first live input (1).
      item.initial_pending = 2 * (item.initial_pending - item.num_inputs) + 1;
    }
    exec->may_have_dead_ |= item.is_switch || op == "_Recv";
    if (!device->HostMemory()) {
      item.place_memory = true;
      MemoryTypes& types = exec->memory_types_[id];
      const KernelDef* def = KernelRegistry::Global()->Find(
          device->device_type(), node->def(), node->input_types(), node->output_types());
      if (def != nullptr) {
        KernelRegistry::HostMemoryArgs(*def, node->op_def(), node->def(), &types.host_inputs,
                                       &types.host_outputs);
      }
      types.host_inputs.resize(node->num_inputs(), false);
      types.host_outputs.resize(node->num_outputs(), false);
    }
    item.output_types.assign(node->output_types().begin(), node->output_types().end());
    item.output_used.assign(item.num_outputs, false);
    for (const Edge* e : node->in_edges()) {
      if (!e->IsControlEdge() && IsRefType(e->src->output_type(e->src_output)) &&
          !IsRefType(node->input_type(e->dst_input))) {
        cold.deref_inputs.push_back(e->dst_input);
      }
    }
    for (const Edge* e : node->out_edges()) {
      const bool data = !e->IsControlEdge();
      const bool src_ref = data && IsRefType(node->output_type(e->src_output));
      const bool dst_ref = data && IsRefType(e->dst->input_type(e->dst_input));
      item.out.push_back(
          {item_of[e->dst->id()], e->dst_input, e->src_output, false, src_ref, dst_ref});
      if (data) item.output_used[e->src_output] = true;
      exec->has_refs_ |= src_ref;
    }
    // Group by output so the last consumer of each output can take the tensor.
    std::stable_sort(item.out.begin(), item.out.end(), [](const OutEdge& a, const OutEdge& b) {
      return a.src_output < b.src_output;
    });
    for (size_t k = 0; k < item.out.size(); ++k) {
      item.out[k].last_use =
          item.out[k].src_output >= 0 &&
          (k + 1 == item.out.size() || item.out[k + 1].src_output != item.out[k].src_output);
    }
    if (item.initial_pending == 0) exec->roots_.push_back(static_cast<int>(id));
  }
  RETURN_IF_ERROR(AnalyzeFrames(exec.get()));
  exec->graph_ = std::move(graph);
  return exec;
}

// Which frame each node runs in: its inputs' frame, the child frame named by an Enter for
// the Enter, the parent frame for what an Exit feeds.
absl::Status Executor::AnalyzeFrames(Executor* exec) {
  std::vector<NodeItem>& items = exec->items_;
  exec->frames_.assign(1, FrameInfo{});
  std::map<std::pair<int, std::string>, int> children;
  std::vector<bool> seen(items.size(), false);
  std::deque<int> queue(exec->roots_.begin(), exec->roots_.end());
  for (int id : exec->roots_) seen[id] = true;
  while (!queue.empty()) {
    const int id = queue.front();
    queue.pop_front();
    const NodeItem& item = items[id];
    int base = exec->cold_[id].frame;
    if (item.is_exit) {
      if (base == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "Exit outside any loop: no Enter leads to it", exec->cold_[id].error_suffix));
      }
      base = exec->frames_[base].parent;
    }
    for (const OutEdge& e : item.out) {
      NodeItem& dst = items[e.dst];
      int frame = base;
      if (dst.is_enter) {
        std::string name;
        RETURN_IF_ERROR(dst.node->attrs().Get("frame_name", &name));
        auto [it, added] = children.emplace(std::make_pair(base, name), exec->frames_.size());
        if (added) {
          FrameInfo info;
          info.name = name;
          info.parent = base;
          int64_t parallel = 10;
          RETURN_IF_ERROR(dst.node->attrs().Get("parallel_iterations", &parallel));
          info.parallel_iterations = static_cast<int>(std::max<int64_t>(parallel, 1));
          exec->frames_.push_back(std::move(info));
        }
        frame = it->second;
      }
      int& dst_frame = exec->cold_[e.dst].frame;
      if (!seen[e.dst]) {
        seen[e.dst] = true;
        dst_frame = frame;
        queue.push_back(e.dst);
      } else if (dst_frame != frame) {
        return absl::InvalidArgumentError(absl::StrCat(
            "takes inputs from two frames ('", exec->frames_[dst_frame].name, "' and '",
            exec->frames_[frame].name, "'): a tensor enters a loop only through Enter",
            exec->cold_[e.dst].error_suffix));
      }
    }
  }
  for (size_t id = 0; id < items.size(); ++id) {
    NodeItem& item = items[id];
    for (const OutEdge& e : item.out) item.feeds_enter |= items[e.dst].is_enter;
    item.needs_frames =
        item.is_constant_enter || item.is_exit || item.is_next_iteration || item.feeds_enter;
    exec->has_merges_ |= item.is_merge;
    const int frame_index = exec->cold_[id].frame;
    FrameInfo& frame = exec->frames_[frame_index];
    if (item.is_enter) ++frame.num_enters;
    if (item.is_exit) frame.exits.push_back(static_cast<int>(id));
  }
  exec->has_loops_ = exec->frames_.size() > 1;
  exec->may_have_dead_ |= exec->has_loops_;
  // An iteration holds the state of its frame's items only.
  for (size_t id = 0; id < items.size(); ++id) {
    NodeItem& item = items[id];
    FrameInfo& frame = exec->frames_[exec->cold_[id].frame];
    item.local = frame.num_items++;
    item.input_start = frame.num_inputs;
    frame.num_inputs += item.num_inputs;
    frame.initial_pending.push_back(item.initial_pending);
  }
  return absl::OkStatus();
}

Executor::~Executor() = default;

// The state of one run. It deletes itself after calling `done`.
class Executor::Step {
 public:
  Step(const Executor* exec, const ExecutorArgs& args, DoneCallback done)
      : exec_(exec),
        args_(args),
        done_(std::move(done)),
        root_(exec, nullptr, 0, exec->frames_[0]) {
    // A kernel that waits must be woken when the step fails: give a step that brought no
    // cancellation manager its own.
    if (args_.cancellation == nullptr && exec->has_async_) {
      own_cancellation_ = std::make_unique<CancellationManager>();
      args_.cancellation = own_cancellation_.get();
    }
  }

  void Start() {
    if (args_.cancellation != nullptr) {
      registered_ = args_.cancellation->Register(
          &cancellation_token_, [this](const absl::Status& status) { Abort(status); });
      if (!registered_) Abort(absl::CancelledError("the step was cancelled before it started"));
    }
    if (exec_->roots_.empty()) {
      Complete();
      return;
    }
    ReadyList roots;
    for (int id : exec_->roots_) roots.push_back({&root_, id});
    ReadyStack stack;
    Dispatch(roots, &stack, /*on_pool=*/false);
    RunLoop(&stack, /*on_pool=*/false);
  }

 private:
  struct Frame;

  // The per-node state of one iteration of one frame (the step's own is root_).
  struct Iteration {
    Iteration(const Executor* exec, Frame* frame, int64_t index, const FrameInfo& info)
        : frame(frame),
          index(index),
          inputs(new Tensor[info.num_inputs]),
          input_refs(exec->has_refs_ ? new TensorRef[info.num_inputs] : nullptr),
          pending(new std::atomic<int>[info.num_items]),
          dead(exec->may_have_dead_ ? new std::atomic<bool>[info.num_items] : nullptr),
          dead_inputs(exec->has_merges_ ? new int[info.num_items]() : nullptr) {
      for (int i = 0; i < info.num_items; ++i) {
        pending[i].store(info.initial_pending[i], std::memory_order_relaxed);
        if (dead) dead[i].store(false, std::memory_order_relaxed);
      }
    }
    Frame* const frame;  // nullptr: the step's
    const int64_t index;
    std::unique_ptr<Tensor[]> inputs;
    std::unique_ptr<TensorRef[]> input_refs;  // only when the graph has ref edges
    std::unique_ptr<std::atomic<int>[]> pending;
    std::unique_ptr<std::atomic<bool>[]> dead;  // per node: some input is dead
    std::unique_ptr<int[]> dead_inputs;         // per Merge: dead data inputs (merge_mu_)
    // In a loop's frame: its nodes ready or running, and its child frames running.
    std::atomic<int> outstanding{0};
    std::map<int, Frame*> children;  // running child frames by frame index (frames_mu_)
  };

  // One run of a loop: its live iterations, oldest first (all under frames_mu_).
  struct Frame {
    const FrameInfo* info;
    int index;
    Iteration* parent;
    std::deque<std::unique_ptr<Iteration>> live;
    int64_t first_live = 0;
    int enters_left;
    // NextIteration outputs for the iteration after the last live one, waiting for room.
    std::vector<std::pair<int, Tensor>> waiting;
    // is_constant Enter outputs, given to every iteration.
    struct Invariant {
      int id;
      Tensor value;
      TensorRef ref;  // RefEnter's
      bool dead;
    };
    std::vector<Invariant> invariants;
    std::vector<bool> exit_live;  // by position in info->exits
  };

  struct Tagged {
    Iteration* iter;
    int id;
  };
  using ReadyStack = absl::InlinedVector<Tagged, 32>;
  using ReadyList = absl::InlinedVector<Tagged, 16>;

  // Runs the nodes in `stack` and whatever they make ready inline, until none is left.
  // `on_pool` tells whether this thread is one of the pool's workers.
  void RunLoop(ReadyStack* stack, bool on_pool) {
    DepthScope depth;
    ReadyList ready;
    while (!stack->empty()) {
      const Tagged node = stack->back();
      stack->pop_back();
      const NodeItem& item = exec_->items_[node.id];
      Iteration* iter = node.iter;
      ready.clear();
      if (!aborted_.load(std::memory_order_relaxed)) {
        const bool dead = iter->dead && iter->dead[item.local].load(std::memory_order_relaxed);
        absl::Status status;
        if (dead && !item.runs_when_dead) {
          ReleaseInputs(item, iter);
          status = item.is_retval ? DeadFetchError(item)
                                  : Propagate(item, iter, {}, {}, /*node_dead=*/true, &ready);
        } else if (item.is_async) {
          RunAsyncNode(node, dead);
          continue;  // its callback finishes it
        } else {
          absl::InlinedVector<Tensor, 4> outputs(item.num_outputs);
          absl::InlinedVector<TensorRef, 4> output_refs(item.num_outputs);
          bool outputs_dead = false;
          status = RunKernel(item, iter, dead, absl::MakeSpan(outputs), absl::MakeSpan(output_refs),
                             &outputs_dead);
          if (status.ok()) {
            status =
                Propagate(item, iter, absl::MakeSpan(outputs), output_refs, outputs_dead, &ready);
          }
        }
        if (!status.ok()) Abort(WithNode(status, item));
        if (exec_->has_loops_) NodeDone(item, iter, &ready);
      }
      if (!ready.empty()) Dispatch(ready, stack, on_pool);
      if (Finish()) return;  // the step is over and `this` is gone
    }
  }

  // "frame:iteration" of `iter` and its parents from the outermost loop in, "/"-joined:
  // the same in every partition of the loop, so sends and receives of one iteration meet.
  static std::string FrameIter(const Iteration* iter) {
    std::vector<std::string> parts;
    for (; iter != nullptr && iter->frame != nullptr; iter = iter->frame->parent) {
      parts.push_back(absl::StrCat(iter->frame->info->name, ":", iter->index));
    }
    std::reverse(parts.begin(), parts.end());
    return absl::StrJoin(parts, "/");
  }

  OpKernelContext::Params MakeParams(const NodeItem& item, Iteration* iter, bool input_dead,
                                     absl::Span<TensorRef> output_refs) const {
    OpKernelContext::Params params;
    params.is_input_dead = input_dead;
    params.kernel = item.kernel.get();
    params.inputs = absl::MakeSpan(iter->inputs.get() + item.input_start, item.num_inputs);
    if (iter->input_refs) {
      params.input_refs =
          absl::MakeSpan(iter->input_refs.get() + item.input_start, item.num_inputs);
    }
    params.output_refs = output_refs;
    params.device = exec_->device_;
    params.allocator = exec_->device_->allocator();
    if (item.place_memory) {
      params.host_outputs = &exec_->memory_types(item).host_outputs;
      params.host_allocator = CpuAllocator();
    }
    params.thread_pool = exec_->device_->compute_pool();
    params.rendezvous = args_.rendezvous;
    if (item.is_transfer && iter->frame != nullptr) params.frame_iter = FrameIter(iter);
    params.call_frame = args_.call_frame;
    params.cancellation = args_.cancellation;
    params.step_id = args_.step_id;
    return params;
  }

  // `status` naming the node, unless it names one already: a _Recv fails with the error
  // that aborted its step, which belongs to the node in another partition that raised it.
  absl::Status WithNode(const absl::Status& status, const NodeItem& item) const {
    if (absl::StrContains(status.message(), " [[node ")) return status;
    return AppendToMessage(status, exec_->cold(item).error_suffix);
  }

  // The current values of the variables that `item` takes as values (a read of a variable
  // sees every write that ran before it).
  absl::Status DerefInputs(const NodeItem& item, Iteration* iter) {
    if (!exec_->has_refs_) return absl::OkStatus();
    for (int i : exec_->cold(item).deref_inputs) {
      const int slot = item.input_start + i;
      TensorRef& ref = iter->input_refs[slot];
      if (!ref.valid()) continue;  // a dead input
      std::lock_guard<std::mutex> lock(*ref.mu);
      if (!ref.tensor->IsInitialized()) return UninitializedError(ref);
      iter->inputs[slot] = *ref.tensor;
    }
    return absl::OkStatus();
  }

  // On a device whose memory is not the host's, each input where the kernel reads it:
  // host memory for its HostMemory args (a shape), the device's for the rest.
  absl::Status PlaceInputs(const NodeItem& item, Iteration* iter) {
    if (!item.place_memory) return absl::OkStatus();
    const std::vector<bool>& host = exec_->memory_types(item).host_inputs;
    for (int i = 0; i < item.num_inputs; ++i) {
      Tensor& t = iter->inputs[item.input_start + i];
      if (!t.IsInitialized() || t.on_host() == host[i]) continue;
      ASSIGN_OR_RETURN(t,
                       host[i] ? exec_->device_->CopyToHost(t) : exec_->device_->CopyFromHost(t));
    }
    return absl::OkStatus();
  }

  absl::Status RunKernel(const NodeItem& item, Iteration* iter, bool input_dead,
                         absl::Span<Tensor> outputs, absl::Span<TensorRef> output_refs,
                         bool* outputs_dead) {
    RETURN_IF_ERROR(DerefInputs(item, iter));
    RETURN_IF_ERROR(PlaceInputs(item, iter));
    const OpKernelContext::Params params = MakeParams(item, iter, input_dead, output_refs);
    OpKernelContext ctx(params, outputs);
    std::optional<NodeRunStats> stats;
    if (args_.stats != nullptr) stats = StartStats(item, params.inputs);
    absl::Status status;
    try {
      status = exec_->device_->Compute(item.kernel.get(), &ctx);
    } catch (const OutOfMemory& e) {
      status = absl::ResourceExhaustedError(e.what());
    } catch (const std::bad_alloc&) {
      status = absl::ResourceExhaustedError("out of memory while computing the node's outputs");
    }
    if (stats) RecordStats(std::move(stats), outputs);
    ReleaseInputs(item, iter);  // as early as possible
    *outputs_dead = ctx.outputs_dead();
    return status;
  }

  // Only when the caller collects stats.
  std::optional<NodeRunStats> StartStats(const NodeItem& item, absl::Span<const Tensor> inputs) {
    if (args_.stats == nullptr) return std::nullopt;
    NodeRunStats stats;
    stats.node = item.node->name();
    stats.op = item.node->type_string();
    stats.device = exec_->device_->name();
    for (const Tensor& t : inputs) {
      const auto dims = t.shape().dim_sizes();
      stats.input_shapes.emplace_back(dims.begin(), dims.end());
    }
    stats.start_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    stats.elapsed_ns = std::chrono::steady_clock::now().time_since_epoch().count();
    return stats;
  }

  void RecordStats(std::optional<NodeRunStats> stats, absl::Span<const Tensor> outputs) {
    stats->elapsed_ns = std::chrono::steady_clock::now().time_since_epoch().count() -
                        stats->elapsed_ns;  // it held the start
    for (const Tensor& t : outputs) {
      if (!t.IsInitialized()) {  // a Switch's untaken side, a ref output
        stats->outputs.emplace_back(DT_INVALID, std::vector<int64_t>());
        continue;
      }
      const auto dims = t.shape().dim_sizes();
      stats->outputs.emplace_back(t.dtype(), std::vector<int64_t>(dims.begin(), dims.end()));
    }
    Allocator* allocator = exec_->device_->allocator();
    if (std::optional<AllocatorStats> memory = allocator ? allocator->Stats() : std::nullopt) {
      stats->allocator = allocator->Name();
      stats->allocator_bytes_in_use = memory->bytes_in_use;
      for (const Tensor& t : outputs) {
        if (t.IsInitialized() && t.on_host() == allocator->HostMemory()) {
          stats->output_bytes += static_cast<int64_t>(t.TotalBytes());
        }
      }
    }
    args_.stats->Record(*std::move(stats));
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void ReleaseInputs(const NodeItem& item, Iteration* iter) {
    for (int i = 0; i < item.num_inputs; ++i) iter->inputs[item.input_start + i] = Tensor();
    if (iter->input_refs) {
      for (int i = 0; i < item.num_inputs; ++i) {
        iter->input_refs[item.input_start + i] = TensorRef();
      }
    }
  }

  static absl::Status DeadFetchError(const NodeItem& item) {
    return absl::InvalidArgumentError(
        absl::StrCat("fetched tensor '", item.node->def().input(0),
                     "' has no value: it lies on the untaken side of a conditional (Switch)"));
  }

  void RunAsyncNode(Tagged node, bool input_dead) {
    const NodeItem& item = exec_->items_[node.id];
    Iteration* iter = node.iter;
    absl::Status inputs_ready = DerefInputs(item, iter);
    if (inputs_ready.ok()) inputs_ready = PlaceInputs(item, iter);
    if (!inputs_ready.ok()) {
      Abort(WithNode(inputs_ready, item));
      ReleaseInputs(item, iter);
      Finish();
      return;
    }
    struct AsyncState {
      std::vector<TensorRef> output_refs;
      OpKernelContext::Params params;
      std::vector<Tensor> outputs;
      std::unique_ptr<OpKernelContext> ctx;
      std::optional<NodeRunStats> stats;
    };
    auto* state = new AsyncState;
    state->output_refs.resize(item.num_outputs);
    state->params = MakeParams(item, iter, input_dead, absl::MakeSpan(state->output_refs));
    state->outputs.resize(item.num_outputs);
    state->ctx = std::make_unique<OpKernelContext>(state->params, absl::MakeSpan(state->outputs));
    state->stats = StartStats(item, state->params.inputs);
    item.kernel->ComputeAsync(state->ctx.get(), [this, node, state](absl::Status status) {
      const bool go_on_here = executor_depth == 0;
      ReadyStack stack;
      {
        DepthScope depth;
        const NodeItem& item = exec_->items_[node.id];
        if (state->stats) RecordStats(std::move(state->stats), state->outputs);
        ReadyList ready;
        if (status.ok()) {
          status = Propagate(item, node.iter, absl::MakeSpan(state->outputs), state->output_refs,
                             state->ctx->outputs_dead(), &ready);
        }
        if (!status.ok()) Abort(WithNode(status, item));
        ReleaseInputs(item, node.iter);
        delete state;
        if (!aborted_.load(std::memory_order_relaxed)) NodeDone(item, node.iter, &ready);
        if (go_on_here) {
          // Cheap nodes run on this thread, as they would on a session's caller.
          if (!ready.empty()) Dispatch(ready, &stack, /*on_pool=*/false);
        } else {
          outstanding_.fetch_add(static_cast<int>(ready.size()), std::memory_order_relaxed);
          for (const Tagged& r : ready) Schedule(r);
        }
        if (Finish()) return;  // nothing was left to run
      }
      RunLoop(&stack, /*on_pool=*/false);
    });
  }

  // Checks the outputs a kernel produced and hands them to the consumers, in the iteration
  // each edge leads to; appends the consumers that became ready. A ref output reaches a
  // ref input as the ref, and any other input as the variable's current value. When
  // `node_dead`, every output (and control edge) is dead; a Switch's unset output is.
  absl::Status Propagate(const NodeItem& item, Iteration* iter, absl::Span<Tensor> outputs,
                         absl::Span<const TensorRef> output_refs, bool node_dead,
                         ReadyList* ready) {
    for (int i = 0; i < item.num_outputs && !node_dead; ++i) {
      if (!item.output_used[i]) continue;
      if (item.is_switch && !outputs[i].IsInitialized()) continue;
      if (IsRefType(item.output_types[i])) {
        if (!output_refs[i].valid()) {
          return absl::InternalError(absl::StrCat("kernel produced no ref for output ", i));
        }
        continue;
      }
      const Tensor& t = outputs[i];
      if (!t.IsInitialized()) {
        return absl::InternalError(absl::StrCat("kernel produced no value for output ", i));
      }
      if (t.dtype() != item.output_types[i]) {
        return absl::InternalError(absl::StrCat("kernel produced ", DataTypeString(t.dtype()),
                                                " for output ", i, ", declared ",
                                                DataTypeString(item.output_types[i])));
      }
    }
    if (!exec_->has_loops_ || !item.needs_frames) {
      DeliverOutputs(item, iter, outputs, output_refs, node_dead, /*copy=*/false, ready);
      return absl::OkStatus();
    }
    std::lock_guard<std::mutex> lock(frames_mu_);
    Iteration* base = iter;
    if (item.is_next_iteration || item.is_exit) {
      // A dead NextIteration ends its loop variable's iterations; a dead Exit reaches the
      // parent frame when the loop's frame ends, if no iteration sent a live value.
      if (node_dead) return absl::OkStatus();
      if (item.is_exit) {
        base = ExitTarget(item, iter);
      } else {
        bool made = false;
        base = NextIterationTarget(item, iter, outputs, &made);
        if (base == nullptr) return absl::OkStatus();  // it waits for room in the frame
        if (made) GiveInvariants(base->frame, base, ready);
      }
    } else if (item.is_constant_enter) {
      Frame* frame = iter->frame;
      frame->invariants.push_back({static_cast<int>(&item - exec_->items_.data()),
                                   node_dead ? Tensor() : outputs[0],
                                   output_refs.empty() ? TensorRef() : output_refs[0], node_dead});
      for (size_t k = 1; k < frame->live.size(); ++k) {
        DeliverOutputs(item, frame->live[k].get(), outputs, output_refs, node_dead,
                       /*copy=*/true, ready);
      }
    }
    DeliverOutputs(item, base, outputs, output_refs, node_dead, /*copy=*/false, ready);
    return absl::OkStatus();
  }

  // Hands the outputs to every consumer in `base`, or, for an Enter, in iteration 0 of its
  // frame within `base` (made on the first Enter to arrive; under frames_mu_).
  ABSL_ATTRIBUTE_ALWAYS_INLINE void DeliverOutputs(const NodeItem& item, Iteration* base,
                                                   absl::Span<Tensor> outputs,
                                                   absl::Span<const TensorRef> output_refs,
                                                   bool node_dead, bool copy, ReadyList* ready) {
    for (const OutEdge& e : item.out) {
      Iteration* target = base;
      if (item.feeds_enter && exec_->items_[e.dst].is_enter) {
        target = ChildIteration(base, exec_->cold_[e.dst].frame);
      }
      // A Switch's untaken output is dead.
      const bool edge_dead = node_dead || (item.is_switch && e.src_output >= 0 &&
                                           !outputs[e.src_output].IsInitialized());
      Deliver(e, target, outputs, output_refs, edge_dead, copy, ready);
    }
  }

  // Hands one output (or control) edge's value to its consumer in `target`; appends the
  // consumer if that made it ready. `copy`: keep the output for other deliveries.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Deliver(const OutEdge& e, Iteration* target,
                                            absl::Span<Tensor> outputs,
                                            absl::Span<const TensorRef> output_refs, bool edge_dead,
                                            bool copy, ReadyList* ready) {
    const NodeItem& dst = exec_->items_[e.dst];
    if (dst.is_merge) {
      DeliverToMerge(e, dst, target, outputs, output_refs, edge_dead, copy, ready);
      return;
    }
    if (edge_dead) {
      // The release below publishes this store to whichever thread readies the node.
      target->dead[dst.local].store(true, std::memory_order_relaxed);
    } else if (e.dst_slot >= 0) {
      SetInput(e, dst, target, outputs, output_refs, copy);
    }
    if (target->pending[dst.local].fetch_sub(1, std::memory_order_acq_rel) == 1) {
      MarkReady(target, e.dst, ready);
    }
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void SetInput(const OutEdge& e, const NodeItem& dst,
                                             Iteration* target, absl::Span<Tensor> outputs,
                                             absl::Span<const TensorRef> output_refs, bool copy) {
    const int slot = dst.input_start + e.dst_slot;
    if (e.src_ref) {
      // A value input is read when its consumer runs (DerefInputs), after whatever that
      // consumer waits for, not when the variable node ran.
      target->input_refs[slot] = output_refs[e.src_output];
    } else if (e.last_use && !copy) {
      target->inputs[slot] = std::move(outputs[e.src_output]);
    } else {
      target->inputs[slot] = outputs[e.src_output];
    }
  }

  // A Merge is ready once its control inputs arrived and either its first live data input
  // did (later ones are dropped) or all its data inputs are dead.
  ABSL_ATTRIBUTE_NOINLINE void DeliverToMerge(const OutEdge& e, const NodeItem& dst,
                                              Iteration* target, absl::Span<Tensor> outputs,
                                              absl::Span<const TensorRef> output_refs,
                                              bool edge_dead, bool copy, ReadyList* ready) {
    std::lock_guard<std::mutex> lock(merge_mu_);
    std::atomic<int>& pending = target->pending[dst.local];
    int& dead_inputs = target->dead_inputs[dst.local];
    bool now_ready;
    if (e.dst_slot < 0) {
      const int count = pending.fetch_sub(2, std::memory_order_acq_rel) - 2;
      now_ready = count == 0 || (count == 1 && dead_inputs == dst.num_inputs);
    } else if (!edge_dead) {
      const int count = pending.load(std::memory_order_relaxed);
      if ((count & 1) == 0) return;  // a live input came already
      SetInput(e, dst, target, outputs, output_refs, copy);
      pending.fetch_sub(1, std::memory_order_acq_rel);
      now_ready = count == 1;
    } else {
      ++dead_inputs;
      now_ready = dead_inputs == dst.num_inputs && pending.load(std::memory_order_relaxed) == 1;
    }
    if (now_ready) MarkReady(target, e.dst, ready);
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE void MarkReady(Iteration* target, int id, ReadyList* ready) {
    if (target->frame != nullptr) target->outstanding.fetch_add(1, std::memory_order_relaxed);
    ready->push_back({target, id});
  }

  // --- frames (all under frames_mu_) ---------------------------------------------------
  Iteration* ExitTarget(const NodeItem& item, Iteration* iter) {
    Frame* frame = iter->frame;
    const std::vector<int>& exits = frame->info->exits;
    const int id = static_cast<int>(&item - exec_->items_.data());
    frame->exit_live[std::find(exits.begin(), exits.end(), id) - exits.begin()] = true;
    return frame->parent;
  }

  // The iteration after `iter`, made if there is room; nullptr when the value waits.
  Iteration* NextIterationTarget(const NodeItem& item, Iteration* iter, absl::Span<Tensor> outputs,
                                 bool* made) {
    Frame* frame = iter->frame;
    const int64_t next = iter->index + 1;
    const int64_t last = frame->first_live + static_cast<int64_t>(frame->live.size()) - 1;
    if (next <= last) return frame->live[next - frame->first_live].get();
    if (static_cast<int>(frame->live.size()) < frame->info->parallel_iterations &&
        frame->waiting.empty()) {
      *made = true;
      return NewIteration(frame);
    }
    frame->waiting.emplace_back(&item - exec_->items_.data(), outputs[0]);
    return nullptr;
  }

  // A new last iteration of `frame`, holding the loop's invariants.
  Iteration* NewIteration(Frame* frame) {
    const int64_t index = frame->first_live + static_cast<int64_t>(frame->live.size());
    frame->live.push_back(std::make_unique<Iteration>(exec_, frame, index, *frame->info));
    return frame->live.back().get();
  }

  void GiveInvariants(Frame* frame, Iteration* iter, ReadyList* ready) {
    for (const typename Frame::Invariant& invariant : frame->invariants) {
      Tensor output = invariant.value;
      DeliverOutputs(exec_->items_[invariant.id], iter, absl::MakeSpan(&output, 1),
                     absl::MakeConstSpan(&invariant.ref, 1), invariant.dead, /*copy=*/true, ready);
    }
  }

  // Iteration 0 of the child frame `frame_index` of `parent`, made on first use.
  Iteration* ChildIteration(Iteration* parent, int frame_index) {
    auto it = parent->children.find(frame_index);
    if (it != parent->children.end()) return it->second->live.front().get();
    auto frame = std::make_unique<Frame>();
    frame->info = &exec_->frames_[frame_index];
    frame->index = frame_index;
    frame->parent = parent;
    frame->enters_left = frame->info->num_enters;
    frame->exit_live.assign(frame->info->exits.size(), false);
    Frame* raw = frame.get();
    NewIteration(raw);
    parent->children.emplace(frame_index, raw);
    if (parent->frame != nullptr) parent->outstanding.fetch_add(1, std::memory_order_relaxed);
    frames_.emplace(raw, std::move(frame));
    return raw->live.front().get();
  }

  // After a node of `iter` ran: counts it off, and ends what that completed.
  void NodeDone(const NodeItem& item, Iteration* iter, ReadyList* ready) {
    if (iter->frame == nullptr) return;
    std::lock_guard<std::mutex> lock(frames_mu_);
    if (item.is_enter && iter->index == 0) --iter->frame->enters_left;
    if (iter->outstanding.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      CleanUp(iter->frame, ready);
    }
  }

  // Drops the frame's finished iterations, oldest first (an iteration is finished once
  // nothing of it is ready or running and its predecessor is gone; the first also waits
  // for all of the loop's Enters), starts a waiting iteration where that made room, and
  // ends the frame once nothing is left of it.
  void CleanUp(Frame* frame, ReadyList* ready) {
    while (!frame->live.empty()) {
      Iteration* first = frame->live.front().get();
      if (first->outstanding.load(std::memory_order_acquire) != 0 || !first->children.empty() ||
          (first->index == 0 && frame->enters_left > 0)) {
        break;
      }
      frame->live.pop_front();
      ++frame->first_live;
      if (!frame->waiting.empty() &&
          static_cast<int>(frame->live.size()) < frame->info->parallel_iterations) {
        Iteration* next = NewIteration(frame);
        std::vector<std::pair<int, Tensor>> waiting = std::move(frame->waiting);
        frame->waiting.clear();
        for (auto& [id, value] : waiting) {
          DeliverOutputs(exec_->items_[id], next, absl::MakeSpan(&value, 1), {},
                         /*node_dead=*/false, /*copy=*/true, ready);
        }
        GiveInvariants(frame, next, ready);
      }
    }
    if (!frame->live.empty() || !frame->waiting.empty()) return;
    // The frame ended: Exits that never sent a live value send dead ones.
    Iteration* parent = frame->parent;
    for (size_t k = 0; k < frame->info->exits.size(); ++k) {
      if (frame->exit_live[k]) continue;
      DeliverOutputs(exec_->items_[frame->info->exits[k]], parent, {}, {},
                     /*node_dead=*/true, /*copy=*/true, ready);
    }
    parent->children.erase(frame->index);
    frames_.erase(frame);
    if (parent->frame != nullptr &&
        parent->outstanding.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      CleanUp(parent->frame, ready);
    }
  }

  ABSL_ATTRIBUTE_ALWAYS_INLINE bool IsCheap(const Tagged& node) const {
    const NodeItem& item = exec_->items_[node.id];
    if (!item.is_expensive || item.is_async) return true;
    const absl::Span<const Tensor> inputs(node.iter->inputs.get() + item.input_start,
                                          item.num_inputs);
    return item.kernel->WorkElements(inputs) < kInlineInputElements;
  }

  // Counts `ready` as outstanding, keeps cheap nodes for this thread, and sends expensive
  // ones to the pool; a pool worker keeps one of them if it has nothing else to run. The
  // caller's thread keeps none: it is not counted among the pool's threads, and an
  // expensive kernel there would run beside the pool's (whose own kernels spread over all
  // of its threads) with more threads than cores, each preempting the others.
  ABSL_ATTRIBUTE_ALWAYS_INLINE void Dispatch(const ReadyList& ready, ReadyStack* stack,
                                             bool on_pool) {
    outstanding_.fetch_add(static_cast<int>(ready.size()), std::memory_order_relaxed);
    bool kept = false;
    Tagged kept_expensive{nullptr, -1};
    for (const Tagged& node : ready) {
      if (args_.inter_op_pool == nullptr || IsCheap(node)) {
        stack->push_back(node);
      } else if (!kept) {
        kept = true;
        kept_expensive = node;
      } else {
        Schedule(node);
      }
    }
    if (kept) {
      if (on_pool && stack->empty())
        stack->push_back(kept_expensive);
      else
        Schedule(kept_expensive);
    }
  }

  void Schedule(Tagged node) {
    if (args_.inter_op_pool == nullptr) {
      ReadyStack stack;
      stack.push_back(node);
      RunLoop(&stack, /*on_pool=*/false);
      return;
    }
    args_.inter_op_pool->Schedule([this, node] {
      ReadyStack stack;
      stack.push_back(node);
      RunLoop(&stack, /*on_pool=*/true);
    });
  }

  void Abort(const absl::Status& status) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!status_.ok()) return;
      status_ = status;
    }
    aborted_.store(true);
    if (args_.rendezvous != nullptr) args_.rendezvous->StartAbort(status);
    // Wakes kernels waiting in this step (and, for a shared manager, the other partitions).
    if (args_.cancellation != nullptr) args_.cancellation->StartCancel(status);
  }

  // Marks one node finished; returns true if that ended the step (and deleted `this`).
  bool Finish() {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) != 1) return false;
    Complete();
    return true;
  }

  void Complete() {
    if (registered_) args_.cancellation->Deregister(cancellation_token_);
    DoneCallback done = std::move(done_);
    absl::Status status;
    {
      std::lock_guard<std::mutex> lock(mu_);
      status = status_;
    }
    delete this;
    done(status);
  }

  const Executor* exec_;
  ExecutorArgs args_;
  DoneCallback done_;
  Iteration root_;
  std::atomic<int> outstanding_{0};
  std::atomic<bool> aborted_{false};
  std::unique_ptr<CancellationManager> own_cancellation_;
  bool registered_ = false;  // with args_.cancellation
  CancellationManager::Token cancellation_token_ = 0;
  std::mutex mu_;
  absl::Status status_;
  std::mutex merge_mu_;   // Merges' pending counts and dead inputs
  std::mutex frames_mu_;  // loops' frames and iterations
  std::map<Frame*, std::unique_ptr<Frame>> frames_;
};

void Executor::RunAsync(const ExecutorArgs& args, DoneCallback done) const {
  (new Step(this, args, std::move(done)))->Start();
}

absl::Status Executor::Run(const ExecutorArgs& args) const {
  std::mutex mu;
  std::condition_variable cv;
  bool finished = false;
  absl::Status result;
  RunAsync(args, [&](absl::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    result = std::move(s);
    finished = true;
    cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return finished; });
  return result;
}

}  // namespace runnel
