// BroadcastGradientArgs: for two shapes broadcast together, the dims each operand's
// gradient must be summed over (dims the operand lacks or has as 1).
#include "absl/strings/str_join.h"
#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

template <typename T>
class BroadcastGradientArgsOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(std::vector<int64_t> s0, IntValues(ctx->input(0), "s0"));
    ASSIGN_OR_RETURN(std::vector<int64_t> s1, IntValues(ctx->input(1), "s1"));
    const int rank = static_cast<int>(std::max(s0.size(), s1.size()));
    std::vector<T> r0, r1;
    for (int i = 0; i < rank; ++i) {
      const int i0 = i - (rank - static_cast<int>(s0.size()));
      const int i1 = i - (rank - static_cast<int>(s1.size()));
      const int64_t d0 = i0 >= 0 ? s0[i0] : 1, d1 = i1 >= 0 ? s1[i1] : 1;
      RN_REQUIRE(d0 == d1 || d0 == 1 || d1 == 1, "incompatible shapes: [", absl::StrJoin(s0, ","),
                 "] vs. [", absl::StrJoin(s1, ","), "]");
      if (d0 == 1 && !(d1 == 1 && i0 >= 0)) r0.push_back(i);
      if (d1 == 1 && !(d0 == 1 && i1 >= 0)) r1.push_back(i);
    }
    ctx->set_output(0, Tensor::Vector<T>(r0));
    ctx->set_output(1, Tensor::Vector<T>(r1));
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

REGISTER_KERNEL_FOR_TYPES("BroadcastGradientArgs", kCpu, "T", BroadcastGradientArgsOp, int32_t,
                          int64_t);

}  // namespace
}  // namespace runnel
