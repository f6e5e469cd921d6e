// OpKernel: the code that runs one node. A kernel reads its attributes once in Init() and
// computes in Compute(ctx), validating its inputs with errors that say what was expected
// and what came; the executor appends the node's name to any error.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "core/attr_value.h"
#include "core/call_frame.h"
#include "core/cancellation.h"
#include "core/device_base.h"
#include "core/proto/op_def.pb.h"
#include "core/rendezvous.h"
#include "core/tensor.h"
#include "core/threadpool.h"

namespace runnel {

class OpKernelConstruction {
 public:
  OpKernelConstruction(const NodeDef& def, const OpDef& op_def, DeviceBase* device,
                       std::vector<DataType> input_types, std::vector<DataType> output_types)
      : def_(def),
        op_def_(op_def),
        attrs_(def_),
        device_(device),
        input_types_(std::move(input_types)),
        output_types_(std::move(output_types)) {}

  const NodeDef& def() const { return def_; }
  const OpDef& op_def() const { return op_def_; }
  template <typename T>
  absl::Status GetAttr(const std::string& name, T* value) const {
    return attrs_.Get(name, value);
  }
  bool HasAttr(const std::string& name) const { return attrs_.Has(name); }
  DeviceBase* device() const { return device_; }
  const std::string& device_type() const { return device_->device_type(); }
  const std::string& device_name() const { return device_->name(); }
  const std::vector<DataType>& input_types() const { return input_types_; }
  const std::vector<DataType>& output_types() const { return output_types_; }
  // Whether data input i comes straight from a Const node: the same value on every run,
  // so a kernel may keep work derived from it (a filter in another layout).
  bool input_is_constant(int i) const {
    return i < static_cast<int>(constant_inputs_.size()) && constant_inputs_[i];
  }
  void set_constant_inputs(std::vector<bool> constant) { constant_inputs_ = std::move(constant); }
  // For a Const node: its value over memory the session keeps anyway (its own graph's copy
  // of the constant) when there is one, so that the kernel need not hold a second copy.
  const std::optional<Tensor>& shared_value() const { return shared_value_; }
  void set_shared_value(std::optional<Tensor> value) { shared_value_ = std::move(value); }

 private:
  const NodeDef& def_;
  const OpDef& op_def_;
  AttrSlice attrs_;
  DeviceBase* device_;
  std::vector<DataType> input_types_, output_types_;
  std::vector<bool> constant_inputs_;
  std::optional<Tensor> shared_value_;
};

class OpKernelContext;

// A reference to a mutable tensor (a variable's value), passed along ref-typed edges. The
// mutex guards the tensor; `name` names its owner in errors.
struct TensorRef {
  Tensor* tensor = nullptr;
  std::mutex* mu = nullptr;
  const std::string* name = nullptr;
  bool valid() const { return tensor != nullptr; }
};

// The error of reading or updating a variable that has no value yet, in TensorFlow's words.
inline absl::Status UninitializedError(const TensorRef& ref) {
  return absl::FailedPreconditionError(
      absl::StrCat("Attempting to use uninitialized value ", *ref.name));
}

// Makes the referenced tensor safe to update in place (call with its mutex held): when
// readers still hold its buffer, the variable moves to a private copy, so every reader
// keeps the value it read (one consistent value per read, whatever runs concurrently).
inline void PrepareForInPlaceUpdate(const TensorRef& ref) {
  if (ref.tensor->IsInitialized() && !ref.tensor->RefCountIsOne()) {
    *ref.tensor = ref.tensor->Clone();
  }
}

class OpKernel {
 public:
  virtual ~OpKernel() = default;
  // Reads attributes; called once after construction.
  virtual absl::Status Init(OpKernelConstruction*) { return absl::OkStatus(); }
  virtual absl::Status Compute(OpKernelContext* ctx) = 0;
  // Cheap kernels (Const, Identity, Shape, ...) run inline on the scheduling thread.
  virtual bool IsExpensive() const { return true; }
  // About how many elements a run on `inputs` touches; an expensive kernel with little to
  // do runs inline too. By default all of its inputs; a kernel that reads a part of one
  // (a slice) says how much.
  virtual int64_t WorkElements(absl::Span<const Tensor> inputs) const {
    int64_t elements = 0;
    for (const Tensor& t : inputs) elements += t.NumElements();
    return elements;
  }
  // Async kernels (Recv) override ComputeAsync instead of Compute.
  virtual bool IsAsync() const { return false; }
  virtual void ComputeAsync(OpKernelContext* ctx, std::function<void(absl::Status)> done) {
    done(Compute(ctx));
  }

  const std::string& name() const { return name_; }
  const std::string& type_string() const { return type_string_; }
  const std::vector<DataType>& input_types() const { return input_types_; }
  const std::vector<DataType>& output_types() const { return output_types_; }

 private:
  friend class KernelRegistry;
  std::string name_, type_string_;
  std::vector<DataType> input_types_, output_types_;
};

class OpKernelContext {
 public:
  struct Params {
    const OpKernel* kernel = nullptr;
    absl::Span<Tensor> inputs;          // owned by the executor; a kernel may forward them
    absl::Span<TensorRef> input_refs;   // per input: set for ref-typed inputs
    absl::Span<TensorRef> output_refs;  // per output: set by kernels with ref outputs
    DeviceBase* device = nullptr;       // where the kernel runs (its context, its copies)
    Allocator* allocator = nullptr;
    // On a device whose memory is not the host's: per output, whether the kernel keeps it
    // in host memory (a HostMemory arg), allocated from `host_allocator`. Null: none.
    const std::vector<bool>* host_outputs = nullptr;
    Allocator* host_allocator = nullptr;
    ThreadPool* thread_pool = nullptr;
    Rendezvous* rendezvous = nullptr;
    CallFrame* call_frame = nullptr;
    // The step's: a kernel that waits (a queue's dequeue) registers here to be woken when
    // the step fails elsewhere. Null when the step cannot be cancelled.
    CancellationManager* cancellation = nullptr;
    int64_t step_id = 0;
    // Inside a while loop, for _Send and _Recv: "frame:iteration" from the outermost loop
    // in ("/"-joined), part of the rendezvous key. Empty in the root.
    std::string frame_iter;
    // Some input is dead (the untaken side of a Switch). Only kernels that handle deadness
    // (Merge, _Send, _Recv) ever run then.
    bool is_input_dead = false;
  };
  OpKernelContext(const Params& params, absl::Span<Tensor> outputs)
      : params_(params), outputs_(outputs) {}

  int num_inputs() const { return static_cast<int>(params_.inputs.size()); }
  const Tensor& input(int i) const { return params_.inputs[i]; }
  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  DataType output_type(int i) const { return params_.kernel->output_types()[i]; }

  // Allocates output i with the op's declared output dtype.
  absl::Status allocate_output(int i, const TensorShape& shape, Tensor** out);
  // Reuses the buffer of one of `candidates` (inputs nobody else holds, of the same dtype
  // and element count) for output i, or allocates a new one.
  absl::Status forward_input_or_allocate_output(std::initializer_list<int> candidates, int output,
                                                const TensorShape& shape, Tensor** out);
  void set_output(int i, Tensor value) { outputs_[i] = std::move(value); }
  // Output i as set so far (fused kernels finish what a base kernel computed).
  Tensor& output(int i) { return outputs_[i]; }
  // The tensor a ref-typed input refers to (lock its mutex to read or write it).
  const TensorRef& input_ref(int i) const { return params_.input_refs[i]; }
  void set_output_ref(int i, const TensorRef& ref) { params_.output_refs[i] = ref; }
  // Tensors this kernel may allocate for scratch work.
  Allocator* allocator() const { return params_.allocator; }
  DeviceBase* device() const { return params_.device; }
  DeviceContext* device_context() const {
    return params_.device == nullptr ? nullptr : params_.device->device_context();
  }
  ThreadPool* thread_pool() const { return params_.thread_pool; }
  Rendezvous* rendezvous() const { return params_.rendezvous; }
  const std::string& frame_iter() const { return params_.frame_iter; }
  CallFrame* call_frame() const { return params_.call_frame; }
  CancellationManager* cancellation() const { return params_.cancellation; }
  int64_t step_id() const { return params_.step_id; }
  const OpKernel& kernel() const { return *params_.kernel; }

  // Control flow. A dead input has no value (an uninitialized Tensor).
  bool is_input_dead() const { return params_.is_input_dead; }
  // Marks every output dead: consumers other than Merge will not run.
  void set_outputs_dead() { outputs_dead_ = true; }
  bool outputs_dead() const { return outputs_dead_; }

 private:
  const Params& params_;
  absl::Span<Tensor> outputs_;
  bool outputs_dead_ = false;
};

// Returns from the enclosing function with INVALID_ARGUMENT unless `cond` holds.
#define RN_REQUIRE(cond, ...)                                                      \
  do {                                                                             \
    if (!(cond)) return ::absl::InvalidArgumentError(::absl::StrCat(__VA_ARGS__)); \
  } while (0)

}  // namespace runnel
