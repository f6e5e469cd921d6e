// What queues and accumulators share: their handle (a reference to a string naming them in
// the device's ResourceManager), the lookup from a handle input, and waits that the step's
// cancellation ends.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/kernel_registry.h"
#include "core/status.h"

namespace runnel {

// A stateful kernel that is a resource others name by its handle. Waiters on it are
// numbered: Cancel(id) answers a waiter with `status`, or, when it has not started
// waiting yet, makes its wait fail at once.
class SharedResource : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    std::string shared_name;
    RETURN_IF_ERROR(ctx->GetAttr("shared_name", &shared_name));
    name_ = shared_name.empty() ? ctx->def().name() : shared_name;
    handle_ = Tensor(DT_STRING, TensorShape{});
    handle_.data<std::string>()[0] = name_;
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ctx->set_output_ref(0, {&handle_, &handle_mu_, &name_});
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

  const std::string& resource_name() const { return name_; }
  int64_t NewWaitId() {
    std::lock_guard<std::mutex> lock(mu_);
    return next_wait_id_++;
  }
  virtual void Cancel(int64_t id, const absl::Status& status) = 0;

 protected:
  // Call with mu_ held when a wait starts: its cancellation if it came first.
  absl::Status TakeCancellation(int64_t id) {
    auto it = cancelled_.find(id);
    if (it == cancelled_.end()) return absl::OkStatus();
    absl::Status status = it->second;
    cancelled_.erase(it);
    return status;
  }
  // Call with mu_ held when Cancel finds no waiter `id`.
  void RememberCancellation(int64_t id, const absl::Status& status) { cancelled_[id] = status; }

  std::mutex mu_;

 private:
  std::string name_;
  Tensor handle_;
  std::mutex handle_mu_;
  std::map<int64_t, absl::Status> cancelled_;
  int64_t next_wait_id_ = 0;
};

// The resource of kind R that input `index` (a handle) names on the kernel's device.
template <typename R>
absl::StatusOr<std::shared_ptr<R>> LookupResource(OpKernelContext* ctx, int index,
                                                  const char* kind) {
  const TensorRef& ref = ctx->input_ref(index);
  RN_REQUIRE(ref.valid() && ref.tensor->dtype() == DT_STRING && ref.tensor->NumElements() == 1,
             "input ", index, " is not a ", kind, " handle");
  const std::string& name = ref.tensor->data<std::string>()[0];
  RN_REQUIRE(ctx->device() != nullptr, kind, " '", name, "' needs a device");
  std::shared_ptr<R> resource =
      std::dynamic_pointer_cast<R>(ctx->device()->resource_manager()->Lookup(name));
  RN_REQUIRE(resource != nullptr, "no ", kind, " '", name, "' on ", ctx->device()->name());
  return resource;
}

// A wait on a resource that the step's cancellation ends: Start registers it, End (from
// whoever answers the wait) deregisters it.
class CancellableWait {
 public:
  CancellableWait(OpKernelContext* ctx, std::shared_ptr<SharedResource> resource, int64_t id)
      : cancellation_(ctx->cancellation()) {
    if (cancellation_ == nullptr) return;
    registered_ = cancellation_->Register(
        &token_, [resource, id](const absl::Status& status) { resource->Cancel(id, status); });
    if (!registered_) resource->Cancel(id, absl::CancelledError("the step was cancelled"));
  }
  void End() {
    if (registered_) cancellation_->Deregister(token_);
  }

 private:
  CancellationManager* cancellation_;
  CancellationManager::Token token_ = 0;
  bool registered_ = false;
};

}  // namespace runnel
