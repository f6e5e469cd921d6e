// Switch, Merge and the loop ops: the executor gives them their meaning (an unset Switch
// output is dead; a Merge runs on its first live input, or dead once all inputs are dead;
// Enter, Exit and NextIteration forward their input to another frame or iteration), and
// Assert, which fails the step when its condition is false, and ControlTrigger, which
// runs live even when what it waits for is dead.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/kernel_registry.h"

namespace runnel {
namespace {

class SwitchOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& pred = ctx->input(1);
    RN_REQUIRE(pred.dims() == 0, "pred must be a scalar, got shape ", pred.shape().DebugString());
    ctx->set_output(*pred.data<bool>() ? 1 : 0, ctx->input(0));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class MergeOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    for (int i = 0; i < ctx->num_inputs(); ++i) {
      if (!ctx->input(i).IsInitialized()) continue;  // dead
      ctx->set_output(0, ctx->input(i));
      Tensor index(DT_INT32, TensorShape{});
      *index.data<int32_t>() = i;
      ctx->set_output(1, std::move(index));
      return absl::OkStatus();
    }
    ctx->set_outputs_dead();
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

// Enter, Exit, NextIteration, LoopCond: the executor moves the output where it belongs.
class ForwardToFrameOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class LoopCondOp : public ForwardToFrameOp {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& pred = ctx->input(0);
    RN_REQUIRE(pred.dims() == 0, "a loop's condition must be a scalar, got shape ",
               pred.shape().DebugString());
    return ForwardToFrameOp::Compute(ctx);
  }
};

class RefEnterOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ctx->set_output_ref(0, ctx->input_ref(0));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class AssertOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("summarize", &summarize_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& condition = ctx->input(0);
    RN_REQUIRE(condition.dims() == 0, "condition must be a scalar, got shape ",
               condition.shape().DebugString());
    if (*condition.data<bool>()) return absl::OkStatus();
    std::string message = "assertion failed:";
    for (int i = 1; i < ctx->num_inputs(); ++i) {
      const Tensor& t = ctx->input(i);
      absl::StrAppend(&message, " ",
                      t.dims() == 0 && t.dtype() == DT_STRING
                          ? *t.data<std::string>()
                          : t.DebugString(static_cast<int>(std::max<int64_t>(summarize_, 1))));
    }
    return absl::InvalidArgumentError(message);
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t summarize_ = 3;
};

class ControlTriggerOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext*) override { return absl::OkStatus(); }
  bool IsExpensive() const override { return false; }
};

REGISTER_KERNEL(KernelDefBuilder("ControlTrigger").Device(kCpu), ControlTriggerOp);
REGISTER_KERNEL(KernelDefBuilder("Assert").Device(kCpu).AllowStrings(), AssertOp);
REGISTER_KERNEL(KernelDefBuilder("Switch").Device(kCpu).AllowStrings(), SwitchOp);
REGISTER_KERNEL(KernelDefBuilder("RefEnter").Device(kCpu).AllowStrings(), RefEnterOp);
REGISTER_KERNEL(KernelDefBuilder("Enter").Device(kCpu).AllowStrings(), ForwardToFrameOp);
REGISTER_KERNEL(KernelDefBuilder("Exit").Device(kCpu).AllowStrings(), ForwardToFrameOp);
REGISTER_KERNEL(KernelDefBuilder("NextIteration").Device(kCpu).AllowStrings(), ForwardToFrameOp);
REGISTER_KERNEL(KernelDefBuilder("LoopCond").Device(kCpu), LoopCondOp);
REGISTER_KERNEL(KernelDefBuilder("Merge").Device(kCpu).AllowStrings(), MergeOp);

}  // namespace
}  // namespace runnel
