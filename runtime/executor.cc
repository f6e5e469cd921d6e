#include "runtime/executor.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include "absl/container/inlined_vector.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
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
    item.input_start = exec->total_inputs_;
    item.num_inputs = node->num_inputs();
    item.num_outputs = node->num_outputs();
    item.initial_pending = static_cast<int>(node->in_edges().size());
    item.is_async = item.kernel->IsAsync();
    exec->has_async_ = exec->has_async_ || item.is_async;
    item.is_expensive = item.kernel->IsExpensive();
    const std::string& op = node->type_string();
    item.is_switch = op == "Switch";
    item.is_merge = op == "Merge";
    item.runs_when_dead = item.is_merge || op == "_Send" || op == "_Recv";
    item.is_retval = op == "_Retval";
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
    exec->total_inputs_ += item.num_inputs;
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
  exec->graph_ = std::move(graph);
  return exec;
}

Executor::~Executor() = default;

// The state of one run. It deletes itself after calling `done`.
class Executor::Step {
 public:
  Step(const Executor* exec, const ExecutorArgs& args, DoneCallback done)
      : exec_(exec),
        args_(args),
        done_(std::move(done)),
        inputs_(new Tensor[exec->total_inputs_]),
        input_refs_(exec->has_refs_ ? new TensorRef[exec->total_inputs_] : nullptr),
        pending_(new std::atomic<int>[exec->items_.size()]),
        dead_(exec->may_have_dead_ ? new std::atomic<bool>[exec->items_.size()] : nullptr) {
    // A kernel that waits must be woken when the step fails: give a step that brought no
    // cancellation manager its own.
    if (args_.cancellation == nullptr && exec->has_async_) {
      own_cancellation_ = std::make_unique<CancellationManager>();
      args_.cancellation = own_cancellation_.get();
    }
    for (size_t i = 0; i < exec->items_.size(); ++i) {
      pending_[i].store(exec->items_[i].initial_pending, std::memory_order_relaxed);
      if (dead_) dead_[i].store(false, std::memory_order_relaxed);
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
    ReadyStack stack;
    Dispatch(exec_->roots_.data(), static_cast<int>(exec_->roots_.size()), &stack,
             /*on_pool=*/false);
    RunLoop(&stack, /*on_pool=*/false);
  }

 private:
  using ReadyStack = absl::InlinedVector<int, 32>;

  // Runs the nodes in `stack` and whatever they make ready inline, until none is left.
  // `on_pool` tells whether this thread is one of the pool's workers.
  void RunLoop(ReadyStack* stack, bool on_pool) {
    DepthScope depth;
    absl::InlinedVector<int, 16> ready;
    while (!stack->empty()) {
      const int id = stack->back();
      stack->pop_back();
      const NodeItem& item = exec_->items_[id];
      ready.clear();
      if (!aborted_.load(std::memory_order_relaxed)) {
        const bool dead = dead_ && dead_[id].load(std::memory_order_relaxed);
        absl::Status status;
        if (dead && !item.runs_when_dead) {
          ReleaseInputs(item);
          status = item.is_retval ? DeadFetchError(item)
                                  : Propagate(item, {}, {}, /*node_dead=*/true, &ready);
        } else if (item.is_async) {
          RunAsyncNode(id, dead);
          continue;  // its callback finishes it
        } else {
          absl::InlinedVector<Tensor, 4> outputs(item.num_outputs);
          absl::InlinedVector<TensorRef, 4> output_refs(item.num_outputs);
          bool outputs_dead = false;
          status = RunKernel(item, dead, absl::MakeSpan(outputs), absl::MakeSpan(output_refs),
                             &outputs_dead);
          if (status.ok()) {
            status = Propagate(item, absl::MakeSpan(outputs), output_refs, outputs_dead, &ready);
          }
        }
        if (!status.ok()) Abort(WithNode(status, item));
      }
      if (!ready.empty()) Dispatch(ready.data(), static_cast<int>(ready.size()), stack, on_pool);
      if (Finish()) return;  // the step is over and `this` is gone
    }
  }

  OpKernelContext::Params MakeParams(const NodeItem& item, bool input_dead,
                                     absl::Span<TensorRef> output_refs) const {
    OpKernelContext::Params params;
    params.is_input_dead = input_dead;
    params.kernel = item.kernel.get();
    params.inputs = absl::MakeSpan(inputs_.get() + item.input_start, item.num_inputs);
    if (input_refs_) {
      params.input_refs = absl::MakeSpan(input_refs_.get() + item.input_start, item.num_inputs);
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
  absl::Status DerefInputs(const NodeItem& item) {
    if (!exec_->has_refs_) return absl::OkStatus();
    for (int i : exec_->cold(item).deref_inputs) {
      const int slot = item.input_start + i;
      TensorRef& ref = input_refs_[slot];
      if (!ref.valid()) continue;  // a dead input
      std::lock_guard<std::mutex> lock(*ref.mu);
      if (!ref.tensor->IsInitialized()) return UninitializedError(ref);
      inputs_[slot] = *ref.tensor;
    }
    return absl::OkStatus();
  }

  // On a device whose memory is not the host's, each input where the kernel reads it:
  // host memory for its HostMemory args (a shape), the device's for the rest.
  absl::Status PlaceInputs(const NodeItem& item) {
    if (!item.place_memory) return absl::OkStatus();
    const std::vector<bool>& host = exec_->memory_types(item).host_inputs;
    for (int i = 0; i < item.num_inputs; ++i) {
      Tensor& t = inputs_[item.input_start + i];
      if (!t.IsInitialized() || t.on_host() == host[i]) continue;
      ASSIGN_OR_RETURN(t,
                       host[i] ? exec_->device_->CopyToHost(t) : exec_->device_->CopyFromHost(t));
    }
    return absl::OkStatus();
  }

  absl::Status RunKernel(const NodeItem& item, bool input_dead, absl::Span<Tensor> outputs,
                         absl::Span<TensorRef> output_refs, bool* outputs_dead) {
    RETURN_IF_ERROR(DerefInputs(item));
    RETURN_IF_ERROR(PlaceInputs(item));
    const OpKernelContext::Params params = MakeParams(item, input_dead, output_refs);
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
    ReleaseInputs(item);  // as early as possible
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

  void ReleaseInputs(const NodeItem& item) {
    for (int i = 0; i < item.num_inputs; ++i) inputs_[item.input_start + i] = Tensor();
    if (input_refs_) {
      for (int i = 0; i < item.num_inputs; ++i) input_refs_[item.input_start + i] = TensorRef();
    }
  }

  static absl::Status DeadFetchError(const NodeItem& item) {
    return absl::InvalidArgumentError(
        absl::StrCat("fetched tensor '", item.node->def().input(0),
                     "' has no value: it lies on the untaken side of a conditional (Switch)"));
  }

  void RunAsyncNode(int id, bool input_dead) {
    const NodeItem& item = exec_->items_[id];
    absl::Status inputs_ready = DerefInputs(item);
    if (inputs_ready.ok()) inputs_ready = PlaceInputs(item);
    if (!inputs_ready.ok()) {
      Abort(WithNode(inputs_ready, item));
      ReleaseInputs(item);
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
    state->params = MakeParams(item, input_dead, absl::MakeSpan(state->output_refs));
    state->outputs.resize(item.num_outputs);
    state->ctx = std::make_unique<OpKernelContext>(state->params, absl::MakeSpan(state->outputs));
    state->stats = StartStats(item, state->params.inputs);
    item.kernel->ComputeAsync(state->ctx.get(), [this, id, state](absl::Status status) {
      const bool go_on_here = executor_depth == 0;
      ReadyStack stack;
      {
        DepthScope depth;
        const NodeItem& item = exec_->items_[id];
        if (state->stats) RecordStats(std::move(state->stats), state->outputs);
        absl::InlinedVector<int, 16> ready;
        if (status.ok()) {
          status = Propagate(item, absl::MakeSpan(state->outputs), state->output_refs,
                             state->ctx->outputs_dead(), &ready);
        }
        if (!status.ok()) Abort(WithNode(status, item));
        ReleaseInputs(item);
        delete state;
        if (go_on_here) {
          // Cheap nodes run on this thread, as they would on a session's caller.
          if (!ready.empty()) {
            Dispatch(ready.data(), static_cast<int>(ready.size()), &stack, /*on_pool=*/false);
          }
        } else {
          outstanding_.fetch_add(static_cast<int>(ready.size()), std::memory_order_relaxed);
          for (int r : ready) Schedule(r);
        }
        if (Finish()) return;  // nothing was left to run
      }
      RunLoop(&stack, /*on_pool=*/false);
    });
  }

  // Hands outputs to consumers; appends the consumers that became ready. A ref output
  // reaches a ref input as the ref, and any other input as the variable's current value.
  // When `node_dead`, every output (and control edge) is dead; a Switch's unset output is.
  absl::Status Propagate(const NodeItem& item, absl::Span<Tensor> outputs,
                         absl::Span<const TensorRef> output_refs, bool node_dead,
                         absl::InlinedVector<int, 16>* ready) {
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
    for (const OutEdge& e : item.out) {
      const bool edge_dead = node_dead || (item.is_switch && e.src_output >= 0 &&
                                           !outputs[e.src_output].IsInitialized());
      if (edge_dead) {
        // The release below publishes this store to whichever thread readies the node.
        if (!exec_->items_[e.dst].is_merge) dead_[e.dst].store(true, std::memory_order_relaxed);
      } else if (e.dst_slot >= 0) {
        const int slot = exec_->items_[e.dst].input_start + e.dst_slot;
        if (e.src_ref) {
          // A value input is read when its consumer runs (DerefInputs), after whatever that
          // consumer waits for, not when the variable node ran.
          input_refs_[slot] = output_refs[e.src_output];
        } else if (e.last_use) {
          inputs_[slot] = std::move(outputs[e.src_output]);
        } else {
          inputs_[slot] = outputs[e.src_output];
        }
      }
      if (pending_[e.dst].fetch_sub(1, std::memory_order_acq_rel) == 1) ready->push_back(e.dst);
    }
    return absl::OkStatus();
  }

  bool IsCheap(int id) const {
    const NodeItem& item = exec_->items_[id];
    if (!item.is_expensive || item.is_async) return true;
    const absl::Span<const Tensor> inputs(inputs_.get() + item.input_start, item.num_inputs);
    return item.kernel->WorkElements(inputs) < kInlineInputElements;
  }

  // Counts `ready` as outstanding, keeps cheap nodes for this thread, and sends expensive
  // ones to the pool; a pool worker keeps one of them if it has nothing else to run. The
  // caller's thread keeps none: it is not counted among the pool's threads, and an
  // expensive kernel there would run beside the pool's (whose own kernels spread over all
  // of its threads) with more threads than cores, each preempting the others.
  void Dispatch(const int* ready, int n, ReadyStack* stack, bool on_pool) {
    outstanding_.fetch_add(n, std::memory_order_relaxed);
    int kept_expensive = -1;
    for (int k = 0; k < n; ++k) {
      int id = ready[k];
      if (args_.inter_op_pool == nullptr || IsCheap(id)) {
        stack->push_back(id);
      } else if (kept_expensive < 0) {
        kept_expensive = id;
      } else {
        Schedule(id);
      }
    }
    if (kept_expensive >= 0) {
      if (on_pool && stack->empty())
        stack->push_back(kept_expensive);
      else
        Schedule(kept_expensive);
    }
  }

  void Schedule(int id) {
    if (args_.inter_op_pool == nullptr) {
      ReadyStack stack{id};
      RunLoop(&stack, /*on_pool=*/false);
      return;
    }
    args_.inter_op_pool->Schedule([this, id] {
      ReadyStack stack{id};
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
  std::unique_ptr<Tensor[]> inputs_;
  std::unique_ptr<TensorRef[]> input_refs_;  // only when the graph has ref edges
  std::unique_ptr<std::atomic<int>[]> pending_;
  std::unique_ptr<std::atomic<bool>[]> dead_;  // per node: some input is dead
  std::atomic<int> outstanding_{0};
  std::atomic<bool> aborted_{false};
  std::unique_ptr<CancellationManager> own_cancellation_;
  bool registered_ = false;  // with args_.cancellation
  CancellationManager::Token cancellation_token_ = 0;
  std::mutex mu_;
  absl::Status status_;
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
