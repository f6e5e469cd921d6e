// Range: [start, start + delta, ...) up to limit.
#include <cmath>

#include "core/kernel_registry.h"

namespace runnel {
namespace {

template <typename T>
class RangeOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    for (int i = 0; i < 3; ++i) {
      RN_REQUIRE(ctx->input(i).NumElements() == 1, "Range: ",
                 i == 0   ? "start"
                 : i == 1 ? "limit"
                          : "delta",
                 " must be a scalar, got shape ", ctx->input(i).shape().DebugString());
    }
    const T start = ctx->input(0).scalar<T>();
    const T limit = ctx->input(1).scalar<T>();
    const T delta = ctx->input(2).scalar<T>();
    RN_REQUIRE(delta != 0, "Range: delta must not be 0");
    RN_REQUIRE(delta > 0 ? start <= limit : start >= limit, "Range: start ", start,
               " is beyond limit ", limit, " for delta ", delta);
    int64_t size;
    if constexpr (std::is_integral_v<T>) {
      size = (std::abs(static_cast<int64_t>(limit) - start) +
              std::abs(static_cast<int64_t>(delta)) - 1) /
             std::abs(static_cast<int64_t>(delta));
    } else {
      size = static_cast<int64_t>(std::ceil(std::abs((limit - start) / delta)));
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{size}, &out));
    T* o = out->data<T>();
    for (int64_t i = 0; i < size; ++i) o[i] = static_cast<T>(start + static_cast<T>(i) * delta);
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
};

REGISTER_KERNEL_FOR_TYPES("Range", kCpu, "Tidx", RangeOp, float, double, int32_t, int64_t);

}  // namespace
}  // namespace runnel
