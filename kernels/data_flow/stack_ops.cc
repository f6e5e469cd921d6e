// Stack kernels (ops/data_flow/stack_ops.cc): a vector of shared Tensors behind the
// DT_RESOURCE handle, so a push copies nothing and the values live until popped or the
// step's last handle goes.
#include <mutex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kernel_registry.h"
#include "core/tensor.h"

namespace runnel {
namespace {

class Stack : public ResourceBase {
 public:
  Stack(std::string name, DataType dtype, int64_t max_size)
      : name_(std::move(name)), dtype_(dtype), max_size_(max_size) {}

  std::string DebugString() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return absl::StrCat("Stack '", name_, "' of ", values_.size(), " ", DataTypeString(dtype_));
  }

  absl::Status Push(const Tensor& value) {
    std::lock_guard<std::mutex> lock(mu_);
    RN_REQUIRE(value.dtype() == dtype_, "stack '", name_, "' holds ", DataTypeString(dtype_),
               ", cannot push ", DataTypeString(value.dtype()));
    RN_REQUIRE(max_size_ < 0 || static_cast<int64_t>(values_.size()) < max_size_, "stack '", name_,
               "' is full (max_size ", max_size_, ")");
    values_.push_back(value);
    return absl::OkStatus();
  }

  absl::StatusOr<Tensor> Pop() {
    std::lock_guard<std::mutex> lock(mu_);
    RN_REQUIRE(!values_.empty(), "stack '", name_, "' is empty: popped more than was pushed");
    Tensor value = std::move(values_.back());
    values_.pop_back();
    return value;
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    values_.clear();
  }

 private:
  const std::string name_;
  const DataType dtype_;
  const int64_t max_size_;
  mutable std::mutex mu_;
  std::vector<Tensor> values_;
};

absl::StatusOr<Stack*> GetStack(OpKernelContext* ctx) {
  const Tensor& handle = ctx->input(0);
  Stack* stack = nullptr;
  if (handle.dtype() == DT_RESOURCE && handle.NumElements() == 1) {
    stack = dynamic_cast<Stack*>(handle.data<ResourceHandle>()[0].get());
  }
  RN_REQUIRE(stack != nullptr, "input 0 is not a stack handle");
  return stack;
}

class StackOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("elem_type", &dtype_));
    RETURN_IF_ERROR(ctx->GetAttr("stack_name", &name_));
    if (name_.empty()) name_ = ctx->def().name();
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& max_size = ctx->input(0);
    RN_REQUIRE(max_size.dims() == 0, "max_size must be a scalar, got shape ",
               max_size.shape().DebugString());
    Tensor handle(DT_RESOURCE, TensorShape{});
    handle.data<ResourceHandle>()[0] =
        std::make_shared<Stack>(name_, dtype_, max_size.scalar<int32_t>());
    ctx->set_output(0, std::move(handle));
    return absl::OkStatus();
  }

 private:
  DataType dtype_ = DT_FLOAT;
  std::string name_;
};

class PushOp : public OpKernel {
 public:
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Stack * stack, GetStack(ctx));
    RETURN_IF_ERROR(stack->Push(ctx->input(1)));
    ctx->set_output(0, ctx->input(1));
    return absl::OkStatus();
  }
};

class PopOp : public OpKernel {
 public:
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Stack * stack, GetStack(ctx));
    ASSIGN_OR_RETURN(Tensor value, stack->Pop());
    RN_REQUIRE(value.dtype() == output_types()[0], "the stack holds ",
               DataTypeString(value.dtype()), ", the op pops ", DataTypeString(output_types()[0]));
    ctx->set_output(0, std::move(value));
    return absl::OkStatus();
  }
};

class CloseOp : public OpKernel {
 public:
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Stack * stack, GetStack(ctx));
    stack->Close();
    return absl::OkStatus();
  }
};

REGISTER_KERNEL(KernelDefBuilder("StackV2").Device(kCpu).AllowStrings(), StackOp);
REGISTER_KERNEL(KernelDefBuilder("StackPushV2").Device(kCpu).AllowStrings(), PushOp);
REGISTER_KERNEL(KernelDefBuilder("StackPopV2").Device(kCpu).AllowStrings(), PopOp);
REGISTER_KERNEL(KernelDefBuilder("StackCloseV2").Device(kCpu).AllowStrings(), CloseOp);

}  // namespace
}  // namespace runnel
