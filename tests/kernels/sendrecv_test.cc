// _Send and _Recv on a device whose memory is not the host's: the tensor crosses the
// rendezvous in host memory, copied out by the sender's device and in by the receiver's.
#include "core/kernel_registry.h"
#include "core/op_registry.h"
#include "gtest/gtest.h"
#include "runtime/local_rendezvous.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

// A "device" of type CPU (so CPU kernels serve it) that claims its own memory and marks
// what it copies: CopyToHost adds 100, CopyFromHost adds 1000.
class MarkingDevice : public DeviceBase {
 public:
  MarkingDevice() : DeviceBase("/device:CPU:7", "CPU", CpuAllocator()) {}
  bool HostMemory() const override { return false; }
  absl::StatusOr<Tensor> CopyToHost(const Tensor& t) override { return Add(t, 100); }
  absl::StatusOr<Tensor> CopyFromHost(const Tensor& t) override { return Add(t, 1000); }
  int copies = 0;

 private:
  Tensor Add(const Tensor& t, float amount) {
    ++copies;
    Tensor out = t.Clone();
    out.data<float>()[0] += amount;
    return out;
  }
};

NodeDef Transfer(const std::string& op) {
  NodeDef def;
  def.set_name(op);
  def.set_op(op);
  auto& attr = *def.mutable_attr();
  attr[op == "_Send" ? "T" : "tensor_type"] = MakeAttr(DT_FLOAT);
  attr["tensor_name"] = MakeAttr(std::string("edge_0"));
  attr["send_device"] = MakeAttr(std::string("/device:CPU:7"));
  attr["send_device_incarnation"] = MakeAttr(int64_t{1});
  attr["recv_device"] = MakeAttr(std::string("/device:CPU:7"));
  attr["client_terminated"] = MakeAttr(false);
  return def;
}

std::unique_ptr<OpKernel> Make(const NodeDef& def, DeviceBase* device, std::vector<DataType> in,
                               std::vector<DataType> out) {
  const OpDef& op_def = OpRegistry::Global()->LookUp(def.op()).value()->op_def;
  OpKernelConstruction construction(def, op_def, device, in, out);
  return KernelRegistry::Global()->CreateKernel(&construction).value();
}

TEST(SendRecv, ADeviceWithItsOwnMemoryCopiesThroughTheHost) {
  MarkingDevice device;
  LocalRendezvous rendezvous;
  const NodeDef send_def = Transfer("_Send"), recv_def = Transfer("_Recv");
  auto send = Make(send_def, &device, {DT_FLOAT}, {});
  auto recv = Make(recv_def, &device, {}, {DT_FLOAT});

  std::vector<Tensor> inputs = {Tensor::Scalar<float>(1)};
  OpKernelContext::Params send_params;
  send_params.kernel = send.get();
  send_params.inputs = absl::MakeSpan(inputs);
  send_params.device = &device;
  send_params.rendezvous = &rendezvous;
  std::vector<Tensor> no_outputs;
  OpKernelContext send_ctx(send_params, absl::MakeSpan(no_outputs));
  ASSERT_TRUE(send->Compute(&send_ctx).ok());

  std::vector<Tensor> outputs(1);
  std::vector<TensorRef> output_refs(1);
  OpKernelContext::Params recv_params;
  recv_params.kernel = recv.get();
  recv_params.output_refs = absl::MakeSpan(output_refs);
  recv_params.device = &device;
  recv_params.rendezvous = &rendezvous;
  OpKernelContext recv_ctx(recv_params, absl::MakeSpan(outputs));
  absl::Status status = absl::UnknownError("not done");
  recv->ComputeAsync(&recv_ctx, [&](absl::Status s) { status = s; });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(device.copies, 2);
  EXPECT_EQ(outputs[0].data<float>()[0], 1101.0f);  // out to the host, then in again
}

}  // namespace
}  // namespace runnel
