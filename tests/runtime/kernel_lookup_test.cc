// What happens when no kernel fits: the error names the op, device and dtypes and lists
// the kernels that are registered.
#include "core/kernel_registry.h"
#include "core/op_registry.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

REGISTER_OP("TestOnlyNoKernel").Output("y: float");
REGISTER_OP("TestOnlyFloatKernel")
    .Input("x: T")
    .Output("y: T")
    .Attr("T: {float, double}")
    .SetShapeFn(shape_fn::Unchanged);

class CopyOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ctx->set_output(0, ctx->input(0));
    return absl::OkStatus();
  }
};
REGISTER_KERNEL(KernelDefBuilder("TestOnlyFloatKernel").Device(kCpu).TypeConstraint<float>("T"),
                CopyOp);

TEST(KernelLookup, OpWithoutAnyKernel) {
  auto out = testing::RunGraph(testing::MakeGraph({testing::MakeNode("n", "TestOnlyNoKernel")}), {},
                               {"n"});
  EXPECT_STATUS(out.status(), absl::StatusCode::kNotFound,
                "no device has a kernel for op 'TestOnlyNoKernel'", "registered kernels: none",
                "[[node n (TestOnlyNoKernel)]]");
}

TEST(KernelLookup, DtypeWithoutAKernelListsWhatIsRegistered) {
  GraphDef def = testing::MakeGraph({testing::ConstNode("c", Tensor::Scalar<double>(1)),
                                     testing::MakeNode("n", "TestOnlyFloatKernel", {"c"})});
  EXPECT_STATUS(testing::RunGraph(def, {}, {"n"}).status(), absl::StatusCode::kNotFound,
                "TestOnlyFloatKernel", "CPU T in [float]");
  GraphDef ok = testing::MakeGraph({testing::ConstNode("c", Tensor::Scalar<float>(2)),
                                    testing::MakeNode("n", "TestOnlyFloatKernel", {"c"})});
  auto out = testing::RunGraph(ok, {}, {"n"});
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ((*out)[0].scalar<float>(), 2.0f);
}

TEST(KernelLookup, OutOfMemoryIsAStatusNotACrash) {
  GraphDef def = testing::MakeGraph(
      {testing::ConstNode("dims", testing::MakeTensor<int64_t>({2}, {int64_t{1} << 30, 1 << 20})),
       testing::ConstNode("v", Tensor::Scalar<float>(0)),
       testing::MakeNode("huge", "Fill", {"dims", "v"}, {{"index_type", MakeAttr(DT_INT64)}})});
  EXPECT_STATUS(testing::RunGraph(def, {}, {"huge"}).status(), absl::StatusCode::kResourceExhausted,
                "out of memory", "[[node huge (Fill)");
}

}  // namespace
}  // namespace runnel
