// Fused optimizer updates, applied to a variable in place under its lock.
#include "core/kernel_registry.h"

namespace runnel {
namespace {

// Locks the variable, checks it is initialized and shaped like `update`, and returns it.
absl::StatusOr<Tensor*> LockedVariable(OpKernelContext* ctx, const Tensor& update,
                                       std::unique_lock<std::mutex>* lock) {
  const TensorRef& ref = ctx->input_ref(0);
  *lock = std::unique_lock<std::mutex>(*ref.mu);
  if (!ref.tensor->IsInitialized()) {
    return absl::FailedPreconditionError(
        absl::StrCat("Attempting to use uninitialized value ", *ref.name));
  }
  RN_REQUIRE(ref.tensor->shape() == update.shape(), "variable ", *ref.name, " has shape ",
             ref.tensor->shape().DebugString(), " but its update has shape ",
             update.shape().DebugString());
  return ref.tensor;
}

template <typename T>
class ApplyGradientDescentOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& alpha = ctx->input(1);
    const Tensor& delta = ctx->input(2);
    RN_REQUIRE(alpha.NumElements() == 1, "alpha must be a scalar, got shape ",
               alpha.shape().DebugString());
    std::unique_lock<std::mutex> lock;
    ASSIGN_OR_RETURN(Tensor * var, LockedVariable(ctx, delta, &lock));
    const T a = alpha.scalar<T>();
    T* v = var->data<T>();
    const T* d = delta.data<T>();
    ctx->thread_pool()->ParallelFor(var->NumElements(), 2, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) v[i] -= a * d[i];
    });
    ctx->set_output_ref(0, ctx->input_ref(0));
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("ApplyGradientDescent", kCpu, "T", ApplyGradientDescentOp, float,
                          double);

}  // namespace
}  // namespace runnel
