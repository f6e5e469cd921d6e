// _Send/_Recv move tensors across a partition cut through the step's rendezvous, always in
// host memory: a device whose memory is not the host's copies out on the sending side and
// in on the receiving one (DeviceBase::CopyToHost/CopyFromHost), so the partitioner needs
// no copy nodes. _Arg/_Retval read feeds from and write fetches to the step's call frame.
#include "core/kernel_registry.h"
#include "core/status.h"

namespace runnel {
namespace {

// _Send and _Recv: the rendezvous key their attrs name, read once.
class TransferOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    std::string tensor_name, send_device, recv_device;
    int64_t incarnation = 0;
    RETURN_IF_ERROR(ctx->GetAttr("tensor_name", &tensor_name));
    RETURN_IF_ERROR(ctx->GetAttr("send_device", &send_device));
    RETURN_IF_ERROR(ctx->GetAttr("recv_device", &recv_device));
    RETURN_IF_ERROR(ctx->GetAttr("send_device_incarnation", &incarnation));
    send_device_ = send_device;
    recv_device_ = recv_device;
    tensor_name_ = tensor_name;
    incarnation_ = static_cast<uint64_t>(incarnation);
    key_ = Rendezvous::CreateKey(send_device, incarnation_, recv_device, tensor_name);
    return absl::OkStatus();
  }

 protected:
  // Inside a while loop the key names the frame and iteration too.
  std::string Key(const OpKernelContext* ctx) const {
    if (ctx->frame_iter().empty()) return key_;
    return Rendezvous::CreateKey(send_device_, incarnation_, recv_device_, tensor_name_,
                                 ctx->frame_iter());
  }

  std::string key_;
  std::string send_device_, recv_device_, tensor_name_;
  uint64_t incarnation_ = 0;
};

class SendOp : public TransferOp {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    RN_REQUIRE(ctx->rendezvous() != nullptr, "_Send needs a rendezvous");
    if (ctx->is_input_dead() || ctx->device() == nullptr || ctx->device()->HostMemory()) {
      return ctx->rendezvous()->Send(Key(ctx), ctx->input(0), ctx->is_input_dead());
    }
    ASSIGN_OR_RETURN(Tensor host, ctx->device()->CopyToHost(ctx->input(0)));
    return ctx->rendezvous()->Send(Key(ctx), host, /*is_dead=*/false);
  }
  bool IsExpensive() const override { return false; }
};

class RecvOp : public TransferOp {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(TransferOp::Init(ctx));
    return ctx->GetAttr("tensor_type", &dtype_);
  }
  absl::Status Compute(OpKernelContext*) override {
    return absl::InternalError("_Recv runs asynchronously");
  }
  bool IsAsync() const override { return true; }
  void ComputeAsync(OpKernelContext* ctx, std::function<void(absl::Status)> done) override {
    if (ctx->rendezvous() == nullptr) {
      done(absl::InternalError("_Recv needs a rendezvous"));
      return;
    }
    ctx->rendezvous()->RecvAsync(
        Key(ctx), [ctx, dtype = dtype_, done = std::move(done)](const absl::Status& s,
                                                            const Tensor& value, bool is_dead) {
          if (!s.ok() || is_dead) {
            if (s.ok()) ctx->set_outputs_dead();
            done(s);
            return;
          }
          // A tensor from another process is what its sender says it is: check.
          if (value.dtype() != dtype) {
            done(absl::InternalError(absl::StrCat("_Recv expected a ", DataTypeString(dtype),
                                                  " tensor, got ", DataTypeString(value.dtype()))));
            return;
          }
          DeviceBase* device = ctx->device();
          if (device == nullptr || device->HostMemory()) {
            ctx->set_output(0, value);
            done(absl::OkStatus());
            return;
          }
          auto copied = device->CopyFromHost(value);
          if (copied.ok()) ctx->set_output(0, *std::move(copied));
          done(copied.status());
        });
  }

 private:
  DataType dtype_ = DT_INVALID;
};

class ArgOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return ctx->GetAttr("index", &index_); }
  absl::Status Compute(OpKernelContext* ctx) override {
    CallFrame* frame = ctx->call_frame();
    RN_REQUIRE(frame != nullptr && index_ < frame->num_args(), "_Arg ", index_,
               " has no value in this step");
    ctx->set_output(0, frame->arg(static_cast<int>(index_)));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t index_ = 0;
};

class RetvalOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return ctx->GetAttr("index", &index_); }
  absl::Status Compute(OpKernelContext* ctx) override {
    RN_REQUIRE(ctx->call_frame() != nullptr, "_Retval needs a call frame");
    return ctx->call_frame()->SetRetval(static_cast<int>(index_), ctx->input(0));
  }
  bool IsExpensive() const override { return false; }

 private:
  int64_t index_ = 0;
};

REGISTER_KERNEL(KernelDefBuilder("_Send").Device(kCpu).AllowStrings(), SendOp);
REGISTER_KERNEL(KernelDefBuilder("_Recv").Device(kCpu).AllowStrings(), RecvOp);
REGISTER_KERNEL(KernelDefBuilder("_Arg").Device(kCpu).AllowStrings(), ArgOp);
REGISTER_KERNEL(KernelDefBuilder("_Retval").Device(kCpu).AllowStrings(), RetvalOp);

}  // namespace
}  // namespace runnel
