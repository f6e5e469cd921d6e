// Switch and Merge: the executor gives them their meaning (an unset Switch output is dead;
// a Merge runs once all inputs arrived, dead ones as unset slots).
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

REGISTER_KERNEL(KernelDefBuilder("Switch").Device(kCpu).AllowStrings(), SwitchOp);
REGISTER_KERNEL(KernelDefBuilder("Merge").Device(kCpu).AllowStrings(), MergeOp);

}  // namespace
}  // namespace runnel
