// FIFOQueue and the ops that use it. A dequeue that must wait leaves a waiter that the next
// enqueue (or a close, or the step's cancellation) answers; an enqueue into a full bounded
// queue waits the same way. Answers run outside the queue's lock.
#include <cstring>
#include <deque>
#include <functional>
#include <list>
#include <vector>

#include "kernels/data_flow/shared_resource.h"

namespace runnel {
namespace {

using Tuple = std::vector<Tensor>;
using EnqueueDone = std::function<void(absl::Status)>;
using DequeueDone = std::function<void(absl::Status, std::vector<Tuple>)>;

class FIFOQueueOp : public SharedResource {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(SharedResource::Init(ctx));
    RETURN_IF_ERROR(ctx->GetAttr("component_types", &types_));
    RETURN_IF_ERROR(ctx->GetAttr("capacity", &capacity_));
    if (const AttrValue* shapes = AttrSlice(ctx->def()).Find("shapes")) {
      for (const auto& s : shapes->list().shape()) shapes_.push_back(PartialShape::FromProto(s));
    }
    RN_REQUIRE(shapes_.empty() || shapes_.size() == types_.size(), "FIFOQueue has ", types_.size(),
               " component types but ", shapes_.size(), " shapes");
    return absl::OkStatus();
  }

  // Checks one tuple against the component types and shapes.
  absl::Status Check(const Tuple& tuple) const {
    RN_REQUIRE(tuple.size() == types_.size(), "queue '", resource_name(), "' takes ", types_.size(),
               " components, got ", tuple.size());
    for (size_t i = 0; i < tuple.size(); ++i) {
      RN_REQUIRE(tuple[i].dtype() == types_[i], "component ", i, " of queue '", resource_name(),
                 "' is ", DataTypeString(types_[i]), ", got ", DataTypeString(tuple[i].dtype()));
      RN_REQUIRE(shapes_.empty() || shapes_[i].IsCompatibleWith(tuple[i].shape()), "component ", i,
                 " of queue '", resource_name(), "' has shape ", shapes_[i].DebugString(), ", got ",
                 tuple[i].shape().DebugString());
    }
    return absl::OkStatus();
  }

  void Enqueue(int64_t id, std::deque<Tuple> tuples, EnqueueDone done) {
    std::vector<std::function<void()>> answers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      absl::Status status = TakeCancellation(id);
      if (status.ok() && closed_) {
        status = absl::CancelledError(absl::StrCat("queue '", resource_name(), "' is closed"));
      }
      if (!status.ok()) {
        answers.push_back([done, status] { done(status); });
      } else {
        enqueuers_.push_back({id, std::move(tuples), std::move(done)});
        Serve(&answers);
      }
    }
    for (auto& answer : answers) answer();
  }

  void Dequeue(int64_t id, int n, DequeueDone done) {
    std::vector<std::function<void()>> answers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      absl::Status status = TakeCancellation(id);
      if (!status.ok()) {
        answers.push_back([done, status] { done(status, {}); });
      } else {
        dequeuers_.push_back({id, n, std::move(done)});
        Serve(&answers);
      }
    }
    for (auto& answer : answers) answer();
  }

  void Cancel(int64_t id, const absl::Status& status) override {
    std::function<void()> answer;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto it = enqueuers_.begin(); it != enqueuers_.end() && !answer; ++it) {
        if (it->id != id) continue;
        answer = [done = std::move(it->done), status] { done(status); };
        enqueuers_.erase(it);
        break;
      }
      for (auto it = dequeuers_.begin(); it != dequeuers_.end() && !answer; ++it) {
        if (it->id != id) continue;
        answer = [done = std::move(it->done), status] { done(status, {}); };
        dequeuers_.erase(it);
        break;
      }
      if (!answer) RememberCancellation(id, status);
    }
    if (answer) answer();
  }

  void Close(bool cancel_pending_enqueues) {
    std::vector<std::function<void()>> answers;
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
      if (cancel_pending_enqueues) {
        const absl::Status status =
            absl::CancelledError(absl::StrCat("queue '", resource_name(), "' was closed"));
        for (auto& e : enqueuers_)
          answers.push_back([done = std::move(e.done), status] { done(status); });
        enqueuers_.clear();
      }
      Serve(&answers);
    }
    for (auto& answer : answers) answer();
  }

  int Size() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(items_.size());
  }

  const std::vector<DataType>& types() const { return types_; }

 private:
  struct Enqueuer {
    int64_t id;
    std::deque<Tuple> tuples;
    EnqueueDone done;
  };
  struct Dequeuer {
    int64_t id;
    int n;
    DequeueDone done;
  };

  // Moves waiting enqueuers' tuples in while there is room and hands out tuples to waiting
  // dequeuers in order; collects their answers. Call with mu_ held.
  void Serve(std::vector<std::function<void()>>* answers) {
    for (bool progress = true; progress;) {
      progress = false;
      while (!enqueuers_.empty() &&
             (capacity_ < 0 || static_cast<int64_t>(items_.size()) < capacity_)) {
        Enqueuer& e = enqueuers_.front();
        if (!e.tuples.empty()) {
          items_.push_back(std::move(e.tuples.front()));
          e.tuples.pop_front();
        }
        if (e.tuples.empty()) {
          answers->push_back([done = std::move(e.done)] { done(absl::OkStatus()); });
          enqueuers_.pop_front();
        }
        progress = true;
      }
      while (!dequeuers_.empty()) {
        Dequeuer& d = dequeuers_.front();
        if (static_cast<int>(items_.size()) >= d.n) {
          std::vector<Tuple> taken(std::make_move_iterator(items_.begin()),
                                   std::make_move_iterator(items_.begin() + d.n));
          items_.erase(items_.begin(), items_.begin() + d.n);
          answers->push_back([done = std::move(d.done), taken = std::move(taken)]() mutable {
            done(absl::OkStatus(), std::move(taken));
          });
        } else if (closed_ && enqueuers_.empty()) {
          const absl::Status status = absl::OutOfRangeError(
              absl::StrCat("queue '", resource_name(), "' is closed and has ", items_.size(),
                           " elements, fewer than the ", d.n, " requested"));
          answers->push_back([done = std::move(d.done), status] { done(status, {}); });
        } else {
          break;
        }
        dequeuers_.pop_front();
        progress = true;
      }
    }
  }

  std::vector<DataType> types_;
  std::vector<PartialShape> shapes_;
  int64_t capacity_ = -1;
  std::deque<Tuple> items_;
  std::list<Enqueuer> enqueuers_;
  std::list<Dequeuer> dequeuers_;
  bool closed_ = false;
};

absl::StatusOr<std::shared_ptr<FIFOQueueOp>> Queue(OpKernelContext* ctx) {
  return LookupResource<FIFOQueueOp>(ctx, 0, "queue");
}

// Stacks the i-th component of `tuples` along a new dimension 0.
absl::StatusOr<Tensor> Stack(const std::vector<Tuple>& tuples, size_t i, DataType dtype) {
  if (tuples.empty()) return Tensor(dtype, TensorShape({0}));
  const TensorShape& element = tuples[0][i].shape();
  DimVector dims{static_cast<int64_t>(tuples.size())};
  for (int64_t d : element.dim_sizes()) dims.push_back(d);
  Tensor out(dtype, TensorShape(dims));
  const int64_t n = tuples[0][i].NumElements();
  for (size_t k = 0; k < tuples.size(); ++k) {
    const Tensor& t = tuples[k][i];
    RN_REQUIRE(t.shape() == element, "DequeueMany: component ", i, " has shapes ",
               element.DebugString(), " and ", t.shape().DebugString());
    if (dtype == DT_STRING) {
      std::copy(t.data<std::string>(), t.data<std::string>() + n, out.data<std::string>() + k * n);
    } else if (t.TotalBytes() > 0) {
      std::memcpy(static_cast<char*>(out.raw_data()) + k * t.TotalBytes(), t.raw_data(),
                  t.TotalBytes());
    }
  }
  return out;
}

class QueueEnqueueOp : public OpKernel {
 public:
  explicit QueueEnqueueOp(bool many) : many_(many) {}
  bool IsAsync() const override { return true; }
  absl::Status Compute(OpKernelContext*) override {
    return absl::InternalError("QueueEnqueue runs asynchronously");
  }
  void ComputeAsync(OpKernelContext* ctx, std::function<void(absl::Status)> done) override {
    absl::StatusOr<std::shared_ptr<FIFOQueueOp>> queue = Queue(ctx);
    if (!queue.ok()) return done(queue.status());
    absl::StatusOr<std::deque<Tuple>> tuples = Tuples(ctx, **queue);
    if (!tuples.ok()) return done(tuples.status());
    const int64_t id = (*queue)->NewWaitId();
    auto wait = std::make_shared<CancellableWait>(ctx, *queue, id);
    (*queue)->Enqueue(id, *std::move(tuples), [wait, done = std::move(done)](absl::Status s) {
      wait->End();
      done(s);
    });
  }

 private:
  absl::StatusOr<std::deque<Tuple>> Tuples(OpKernelContext* ctx, const FIFOQueueOp& queue) const {
    const int components = ctx->num_inputs() - 1;
    std::deque<Tuple> tuples;
    if (!many_) {
      Tuple tuple;
      for (int i = 0; i < components; ++i) tuple.push_back(ctx->input(i + 1));
      RETURN_IF_ERROR(queue.Check(tuple));
      tuples.push_back(std::move(tuple));
      return tuples;
    }
    int64_t rows = -1;
    for (int i = 0; i < components; ++i) {
      const Tensor& t = ctx->input(i + 1);
      RN_REQUIRE(t.dims() >= 1, "EnqueueMany: component ", i, " has no dimension 0");
      RN_REQUIRE(rows < 0 || t.dim_size(0) == rows, "EnqueueMany: components have ", rows, " and ",
                 t.dim_size(0), " rows");
      rows = t.dim_size(0);
    }
    for (int64_t r = 0; r < rows; ++r) {
      Tuple tuple;
      for (int i = 0; i < components; ++i) {
        const Tensor& t = ctx->input(i + 1);
        DimVector dims(t.shape().dim_sizes().begin() + 1, t.shape().dim_sizes().end());
        ASSIGN_OR_RETURN(Tensor row, t.Slice(r, r + 1).Reshaped(TensorShape(dims)));
        tuple.push_back(std::move(row));
      }
      RETURN_IF_ERROR(queue.Check(tuple));
      tuples.push_back(std::move(tuple));
    }
    return tuples;
  }

  const bool many_;
};

class QueueDequeueOp : public OpKernel {
 public:
  explicit QueueDequeueOp(bool many) : many_(many) {}
  bool IsAsync() const override { return true; }
  absl::Status Compute(OpKernelContext*) override {
    return absl::InternalError("QueueDequeue runs asynchronously");
  }
  void ComputeAsync(OpKernelContext* ctx, std::function<void(absl::Status)> done) override {
    absl::StatusOr<std::shared_ptr<FIFOQueueOp>> queue = Queue(ctx);
    if (!queue.ok()) return done(queue.status());
    int n = 1;
    if (many_) {
      n = ctx->input(1).scalar<int32_t>();
      if (n < 0) return done(absl::InvalidArgumentError(absl::StrCat("DequeueMany of ", n)));
    }
    if ((*queue)->types().size() != static_cast<size_t>(ctx->num_outputs())) {
      return done(absl::InvalidArgumentError(
          absl::StrCat("queue '", (*queue)->resource_name(), "' has ", (*queue)->types().size(),
                       " components; this dequeue expects ", ctx->num_outputs())));
    }
    const int64_t id = (*queue)->NewWaitId();
    auto wait = std::make_shared<CancellableWait>(ctx, *queue, id);
    const bool many = many_;
    std::vector<DataType> types = (*queue)->types();
    (*queue)->Dequeue(id, n,
                      [ctx, wait, many, types, done = std::move(done)](absl::Status status,
                                                                       std::vector<Tuple> tuples) {
                        wait->End();
                        for (size_t i = 0; status.ok() && i < types.size(); ++i) {
                          if (!many) {
                            ctx->set_output(static_cast<int>(i), std::move(tuples[0][i]));
                            continue;
                          }
                          absl::StatusOr<Tensor> stacked = Stack(tuples, i, types[i]);
                          status = stacked.status();
                          if (status.ok())
                            ctx->set_output(static_cast<int>(i), *std::move(stacked));
                        }
                        done(status);
                      });
  }

 private:
  const bool many_;
};

class QueueSizeOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(std::shared_ptr<FIFOQueueOp> queue, Queue(ctx));
    ctx->set_output(0, Tensor::Scalar<int32_t>(queue->Size()));
    return absl::OkStatus();
  }
};

class QueueCloseOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("cancel_pending_enqueues", &cancel_pending_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(std::shared_ptr<FIFOQueueOp> queue, Queue(ctx));
    queue->Close(cancel_pending_);
    return absl::OkStatus();
  }

 private:
  bool cancel_pending_ = false;
};

struct EnqueueOne : QueueEnqueueOp {
  EnqueueOne() : QueueEnqueueOp(false) {}
};
struct EnqueueMany : QueueEnqueueOp {
  EnqueueMany() : QueueEnqueueOp(true) {}
};
struct DequeueOne : QueueDequeueOp {
  DequeueOne() : QueueDequeueOp(false) {}
};
struct DequeueMany : QueueDequeueOp {
  DequeueMany() : QueueDequeueOp(true) {}
};

REGISTER_KERNEL(KernelDefBuilder("FIFOQueue").Device(kCpu).AllowStrings(), FIFOQueueOp);
REGISTER_KERNEL(KernelDefBuilder("QueueEnqueue").Device(kCpu).AllowStrings(), EnqueueOne);
REGISTER_KERNEL(KernelDefBuilder("QueueEnqueueMany").Device(kCpu).AllowStrings(), EnqueueMany);
REGISTER_KERNEL(KernelDefBuilder("QueueDequeue").Device(kCpu).AllowStrings(), DequeueOne);
REGISTER_KERNEL(KernelDefBuilder("QueueDequeueMany").Device(kCpu).AllowStrings(), DequeueMany);
REGISTER_KERNEL(KernelDefBuilder("QueueSize").Device(kCpu).AllowStrings(), QueueSizeOp);
REGISTER_KERNEL(KernelDefBuilder("QueueClose").Device(kCpu).AllowStrings(), QueueCloseOp);

}  // namespace
}  // namespace runnel
