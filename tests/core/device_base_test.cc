#include "core/device_base.h"

#include "core/op_kernel.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

class Counter : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext*) override { return absl::OkStatus(); }
};

TEST(ResourceManager, OneKernelPerNameMadeOnce) {
  ResourceManager resources;
  int made = 0;
  auto create = [&]() -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    ++made;
    return std::unique_ptr<OpKernel>(new Counter);
  };
  auto a = resources.LookupOrCreate("v", create);
  auto b = resources.LookupOrCreate("v", create);
  auto c = resources.LookupOrCreate("w", create);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->get(), b->get());
  EXPECT_NE(a->get(), c->get());
  EXPECT_EQ(made, 2);
  resources.Clear();
  ASSERT_TRUE(resources.LookupOrCreate("v", create).ok());
  EXPECT_EQ(made, 3);  // made again after Clear; the old one lives while `a` holds it
}

TEST(ResourceManager, AFailedCreationIsNotKept) {
  ResourceManager resources;
  auto failing = []() -> absl::StatusOr<std::unique_ptr<OpKernel>> {
    return absl::InvalidArgumentError("bad attr");
  };
  EXPECT_STATUS(resources.LookupOrCreate("v", failing).status(), absl::StatusCode::kInvalidArgument,
                "bad attr");
  auto ok = resources.LookupOrCreate(
      "v", [] { return absl::StatusOr<std::unique_ptr<OpKernel>>(std::make_unique<Counter>()); });
  EXPECT_TRUE(ok.ok());
}

TEST(DeviceBase, HostMemoryCopiesShareTheBuffer) {
  DeviceBase device("/device:CPU:0", "CPU", CpuAllocator());
  Tensor t = Tensor::Scalar<float>(2);
  auto host = device.CopyToHost(t);
  ASSERT_TRUE(host.ok());
  EXPECT_EQ(host->raw_data(), t.raw_data());
  EXPECT_TRUE(device.HostMemory());
  EXPECT_EQ(device.device_context(), nullptr);
}

}  // namespace
}  // namespace runnel

namespace runnel {
namespace {

TEST(Tensor, KnowsWhereItsMemoryLivesAndHostCodeDoesNotReadDeviceMemory) {
  Tensor on_device(DT_FLOAT, TensorShape{2}, testing::DeviceMemoryAllocator::Get());
  EXPECT_FALSE(on_device.on_host());
  EXPECT_TRUE(Tensor(DT_FLOAT, TensorShape{2}).on_host());
  EXPECT_EQ(on_device.DebugString(), "float [2] (in device memory)");
  TensorProto proto;
  on_device.AsProto(&proto);
  EXPECT_EQ(proto.dtype(), DT_FLOAT);
  EXPECT_EQ(proto.tensor_shape().dim(0).size(), 2);
  EXPECT_TRUE(proto.tensor_content().empty());
}

}  // namespace
}  // namespace runnel
