// Kernels that produce a stored or fed value, or pass their input through unchanged.
#include "core/kernel_registry.h"

namespace runnel {
namespace {

class ConstOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    if (ctx->shared_value()) {
      value_ = *ctx->shared_value();
      return ToDevice(ctx);
    }
    const TensorProto* proto;
    RETURN_IF_ERROR(ctx->GetAttr("value", &proto));
    ASSIGN_OR_RETURN(value_, Tensor::FromProto(*proto));
    return ToDevice(ctx);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ctx->set_output(0, value_);
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  // On a device with its own memory the value is copied there once (int32 stays on the
  // host, see kGpuMemoryTypes).
  absl::Status ToDevice(OpKernelConstruction* ctx) {
    DeviceBase* device = ctx->device();
    if (device == nullptr || device->HostMemory() || value_.dtype() == DT_INT32 ||
        value_.dtype() == DT_STRING) {
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(value_, device->CopyFromHost(value_));
    return absl::OkStatus();
  }
  Tensor value_;
};

class PlaceholderOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    DataType dtype;
    PartialShape shape;
    RETURN_IF_ERROR(ctx->GetAttr("dtype", &dtype));
    RETURN_IF_ERROR(ctx->GetAttr("shape", &shape));
    message_ = absl::StrCat("You must feed a value for placeholder tensor '", ctx->def().name(),
                            "' with dtype ", DataTypeString(dtype),
                            shape.unknown_rank() ? "" : " and shape " + shape.DebugString());
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext*) override { return absl::InvalidArgumentError(message_); }
  bool IsExpensive() const override { return false; }

 private:
  std::string message_;
};

// Identity, StopGradient, PlaceholderWithDefault, IdentityN: outputs are the inputs.
class ForwardOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    for (int i = 0; i < ctx->num_outputs(); ++i) ctx->set_output(i, ctx->input(i));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

class NoOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext*) override { return absl::OkStatus(); }
  bool IsExpensive() const override { return false; }
};

REGISTER_KERNEL(KernelDefBuilder("Const").Device(kCpu).AllowStrings(), ConstOp);
REGISTER_KERNEL(KernelDefBuilder("Placeholder").Device(kCpu).AllowStrings(), PlaceholderOp);
REGISTER_KERNEL(KernelDefBuilder("PlaceholderWithDefault").Device(kCpu).AllowStrings(), ForwardOp);
REGISTER_KERNEL(KernelDefBuilder("Identity").Device(kCpu).AllowStrings(), ForwardOp);
REGISTER_KERNEL(KernelDefBuilder("IdentityN").Device(kCpu).AllowStrings(), ForwardOp);
REGISTER_KERNEL(KernelDefBuilder("StopGradient").Device(kCpu).AllowStrings(), ForwardOp);
REGISTER_KERNEL(KernelDefBuilder("NoOp").Device(kCpu), NoOp);

// A GPU runs these as they are (a constant is copied to it once).
const bool kGpuRegistered =
    RegisterForGpu("Const", "dtype", {}, {"output"}, &MakeKernel<ConstOp>) &&
    RegisterForGpu("Identity", "T", {}, {"input", "output"}, &MakeKernel<ForwardOp>) &&
    RegisterForGpu("StopGradient", "T", {}, {"input", "output"}, &MakeKernel<ForwardOp>) &&
    RegisterForGpu("NoOp", nullptr, {}, {}, &MakeKernel<NoOp>);

}  // namespace
}  // namespace runnel
