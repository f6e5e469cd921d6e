// ConditionalAccumulator and its ops: gradients from several workers are summed until a
// taker has the number it asked for; one computed at a step older than the accumulator's
// global step is stale and dropped, which is how synchronous training ignores a slow
// worker's gradients from a step the others have finished.
#include <list>

#include "kernels/data_flow/shared_resource.h"

namespace runnel {
namespace {

using TakeDone = std::function<void(absl::Status, Tensor)>;

class AccumulatorOp : public SharedResource {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(SharedResource::Init(ctx));
    RETURN_IF_ERROR(ctx->GetAttr("dtype", &dtype_));
    RETURN_IF_ERROR(ctx->GetAttr("shape", &shape_));
    std::string reduction;
    RETURN_IF_ERROR(ctx->GetAttr("reduction_type", &reduction));
    mean_ = reduction == "MEAN";
    return absl::OkStatus();
  }

  // Adds `gradient` unless it is stale; the answers to takers it completes run after.
  absl::Status Apply(int64_t local_step, const Tensor& gradient) {
    RN_REQUIRE(gradient.dtype() == dtype_, "accumulator '", resource_name(), "' holds ",
               DataTypeString(dtype_), " gradients, got ", DataTypeString(gradient.dtype()));
    RN_REQUIRE(shape_.IsCompatibleWith(gradient.shape()), "accumulator '", resource_name(),
               "' holds gradients of shape ", shape_.DebugString(), ", got ",
               gradient.shape().DebugString());
    std::vector<std::function<void()>> answers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (local_step < global_step_) return absl::OkStatus();  // stale: dropped
      if (count_ == 0) {
        sum_ = gradient.Clone();
      } else {
        RN_REQUIRE(sum_.shape() == gradient.shape(), "accumulator '", resource_name(),
                   "' holds gradients of shape ", sum_.shape().DebugString(), ", got ",
                   gradient.shape().DebugString());
        if (dtype_ == DT_FLOAT) {
          Add<float>(gradient);
        } else {
          Add<double>(gradient);
        }
      }
      ++count_;
      Serve(&answers);
    }
    for (auto& answer : answers) answer();
    return absl::OkStatus();
  }

  void Take(int64_t id, int num_required, TakeDone done) {
    std::vector<std::function<void()>> answers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      absl::Status status = TakeCancellation(id);
      if (!status.ok()) {
        answers.push_back([done, status] { done(status, Tensor()); });
      } else {
        takers_.push_back({id, num_required, std::move(done)});
        Serve(&answers);
      }
    }
    for (auto& answer : answers) answer();
  }

  void Cancel(int64_t id, const absl::Status& status) override {
    TakeDone done;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = takers_.begin(); it != takers_.end(); ++it) {
        if (it->id != id) continue;
        done = std::move(it->done);
        takers_.erase(it);
        break;
      }
      if (!done) RememberCancellation(id, status);
    }
    if (done) done(status, Tensor());
  }

  void SetGlobalStep(int64_t step) {
    std::lock_guard<std::mutex> lock(mu_);
    global_step_ = step;
  }

  int NumAccumulated() {
    std::lock_guard<std::mutex> lock(mu_);
    return count_;
  }

 private:
  struct Taker {
    int64_t id;
    int num_required;
    TakeDone done;
  };

  template <typename T>
  void Add(const Tensor& gradient) {
    T* sum = sum_.data<T>();
    const T* g = gradient.data<T>();
    for (int64_t i = 0; i < sum_.NumElements(); ++i) sum[i] += g[i];
  }

  template <typename T>
  void Scale(T factor) {
    T* sum = sum_.data<T>();
    for (int64_t i = 0; i < sum_.NumElements(); ++i) sum[i] *= factor;
  }

  // Answers the first taker once enough gradients came. Call with mu_ held.
  void Serve(std::vector<std::function<void()>>* answers) {
    if (takers_.empty() || count_ < takers_.front().num_required) return;
    if (mean_) {
      if (dtype_ == DT_FLOAT) {
        Scale<float>(1.0f / static_cast<float>(count_));
      } else {
        Scale<double>(1.0 / static_cast<double>(count_));
      }
    }
    answers->push_back([done = std::move(takers_.front().done), value = std::move(sum_)] {
      done(absl::OkStatus(), value);
    });
    takers_.pop_front();
    sum_ = Tensor();
    count_ = 0;
    ++global_step_;
  }

  DataType dtype_ = DT_FLOAT;
  PartialShape shape_;
  bool mean_ = true;
  Tensor sum_;
  int count_ = 0;
  int64_t global_step_ = 0;
  std::list<Taker> takers_;
};

absl::StatusOr<std::shared_ptr<AccumulatorOp>> Accumulator(OpKernelContext* ctx) {
  return LookupResource<AccumulatorOp>(ctx, 0, "accumulator");
}

class ApplyGradientOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(std::shared_ptr<AccumulatorOp> accumulator, Accumulator(ctx));
    return accumulator->Apply(ctx->input(1).scalar<int64_t>(), ctx->input(2));
  }
};

class TakeGradientOp : public OpKernel {
 public:
  bool IsAsync() const override { return true; }
  absl::Status Compute(OpKernelContext*) override {
    return absl::InternalError("AccumulatorTakeGradient runs asynchronously");
  }
  void ComputeAsync(OpKernelContext* ctx, std::function<void(absl::Status)> done) override {
    absl::StatusOr<std::shared_ptr<AccumulatorOp>> accumulator = Accumulator(ctx);
    if (!accumulator.ok()) return done(accumulator.status());
    const int num_required = ctx->input(1).scalar<int32_t>();
    if (num_required < 1) {
      return done(absl::InvalidArgumentError(
          absl::StrCat("num_required must be at least 1, got ", num_required)));
    }
    const int64_t id = (*accumulator)->NewWaitId();
    auto wait = std::make_shared<CancellableWait>(ctx, *accumulator, id);
    (*accumulator)
        ->Take(id, num_required,
               [ctx, wait, done = std::move(done)](absl::Status status, Tensor value) {
                 wait->End();
                 if (status.ok()) ctx->set_output(0, std::move(value));
                 done(status);
               });
  }
};

class NumAccumulatedOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(std::shared_ptr<AccumulatorOp> accumulator, Accumulator(ctx));
    ctx->set_output(0, Tensor::Scalar<int32_t>(accumulator->NumAccumulated()));
    return absl::OkStatus();
  }
};

class SetGlobalStepOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(std::shared_ptr<AccumulatorOp> accumulator, Accumulator(ctx));
    accumulator->SetGlobalStep(ctx->input(1).scalar<int64_t>());
    return absl::OkStatus();
  }
};

REGISTER_KERNEL(KernelDefBuilder("ConditionalAccumulator").Device(kCpu).AllowStrings(),
                AccumulatorOp);
REGISTER_KERNEL(KernelDefBuilder("AccumulatorApplyGradient").Device(kCpu).AllowStrings(),
                ApplyGradientOp);
REGISTER_KERNEL(KernelDefBuilder("AccumulatorTakeGradient").Device(kCpu).AllowStrings(),
                TakeGradientOp);
REGISTER_KERNEL(KernelDefBuilder("AccumulatorNumAccumulated").Device(kCpu).AllowStrings(),
                NumAccumulatedOp);
REGISTER_KERNEL(KernelDefBuilder("AccumulatorSetGlobalStep").Device(kCpu).AllowStrings(),
                SetGlobalStepOp);

}  // namespace
}  // namespace runnel
