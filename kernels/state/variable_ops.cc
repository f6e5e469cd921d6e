// Variable kernels. A VariableV2 kernel owns the variable's tensor and mutex (the session
// shares one kernel per variable across all its executors); the Assign family locks the
// mutex and writes through the reference.
#include <cstring>

#include "core/kernel_registry.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

class VariableOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    name_ = ctx->def().name();
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ctx->set_output_ref(0, {&value_, &mu_, &name_});
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  std::string name_;
  std::mutex mu_;
  Tensor value_;
};

class AssignOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("validate_shape", &validate_shape_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const TensorRef& ref = ctx->input_ref(0);
    const Tensor& value = ctx->input(1);
    {
      std::lock_guard<std::mutex> lock(*ref.mu);
      Tensor& var = *ref.tensor;
      RETURN_IF_ERROR(CheckAssign(var, value, validate_shape_, *ref.name));
      if (var.IsInitialized() && var.shape() == value.shape() && var.RefCountIsOne()) {
        // Nobody else holds the buffer: overwrite it in place.
        if (value.TotalBytes() > 0)
          std::memcpy(var.raw_data(), value.raw_data(), value.TotalBytes());
      } else {
        var = value.Clone();  // never alias the value: it may be a feed or a constant
      }
    }
    ctx->set_output_ref(0, ref);
    return absl::OkStatus();
  }

 private:
  bool validate_shape_ = true;
};

template <typename T, int kSign>
class AssignUpdateOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const TensorRef& ref = ctx->input_ref(0);
    const Tensor& value = ctx->input(1);
    {
      std::lock_guard<std::mutex> lock(*ref.mu);
      Tensor& var = *ref.tensor;
      if (!var.IsInitialized()) return UninitializedError(ref);
      RN_REQUIRE(var.shape() == value.shape(), kSign > 0 ? "AssignAdd" : "AssignSub", " to ",
                 *ref.name, ": the variable has shape ", var.shape().DebugString(),
                 " but the value has ", value.shape().DebugString());
      PrepareForInPlaceUpdate(ref);
      T* v = var.data<T>();
      const T* d = value.data<T>();
      for (int64_t i = 0; i < var.NumElements(); ++i) v[i] = kSign > 0 ? v[i] + d[i] : v[i] - d[i];
    }
    ctx->set_output_ref(0, ref);
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

template <typename T>
using AssignAddOp = AssignUpdateOp<T, 1>;
template <typename T>
using AssignSubOp = AssignUpdateOp<T, -1>;

class IsVariableInitializedOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const TensorRef& ref = ctx->input_ref(0);
    std::lock_guard<std::mutex> lock(*ref.mu);
    ctx->set_output(0, Tensor::Scalar<bool>(ref.tensor->IsInitialized()));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

REGISTER_KERNEL(KernelDefBuilder("VariableV2").Device(kCpu), VariableOp);
REGISTER_KERNEL(KernelDefBuilder("Assign").Device(kCpu), AssignOp);
REGISTER_KERNEL_FOR_TYPES("AssignAdd", kCpu, "T", AssignAddOp, float, double, int32_t, int64_t,
                          uint8_t, int16_t, int8_t);
REGISTER_KERNEL_FOR_TYPES("AssignSub", kCpu, "T", AssignSubOp, float, double, int32_t, int64_t,
                          uint8_t, int16_t, int8_t);
REGISTER_KERNEL(KernelDefBuilder("IsVariableInitialized").Device(kCpu), IsVariableInitializedOp);

// A GPU variable holds its value in device memory (written by the GPU's Assign kernels);
// int32 variables stay on the host, as in TensorFlow.
REGISTER_KERNEL(
    KernelDefBuilder("VariableV2").Device(kGpu).TypeConstraint("dtype", kGpuMemoryTypes),
    VariableOp);
REGISTER_KERNEL(KernelDefBuilder("IsVariableInitialized")
                    .Device(kGpu)
                    .TypeConstraint("dtype", kGpuMemoryTypes)
                    .HostMemory("is_initialized"),
                IsVariableInitializedOp);

}  // namespace
}  // namespace runnel
