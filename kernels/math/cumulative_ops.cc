// Cumsum and Cumprod along an axis, optionally exclusive and/or from the end.
#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

template <typename T, bool kProduct>
class CumulativeOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("exclusive", &exclusive_));
    return ctx->GetAttr("reverse", &reverse_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(int64_t axis, IntScalar(ctx->input(1), "axis"));
    RN_REQUIRE(axis >= -x.dims() && axis < x.dims(), "axis ", axis,
               " is out of range for input of shape ", x.shape().DebugString());
    if (axis < 0) axis += x.dims();
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &out));
    const int64_t n = x.dim_size(static_cast<int>(axis));
    int64_t inner = 1;
    for (int d = static_cast<int>(axis) + 1; d < x.dims(); ++d) inner *= x.dim_size(d);
    const int64_t outer = n * inner == 0 ? 0 : x.NumElements() / (n * inner);
    const T* in = x.data<T>();
    T* o = out->data<T>();
    const T identity = kProduct ? T(1) : T(0);
    for (int64_t a = 0; a < outer; ++a) {
      for (int64_t j = 0; j < inner; ++j) {
        T acc = identity;
        for (int64_t s = 0; s < n; ++s) {
          const int64_t k = reverse_ ? n - 1 - s : s;
          const int64_t i = (a * n + k) * inner + j;
          if (exclusive_) {
            o[i] = acc;
            acc = kProduct ? acc * in[i] : acc + in[i];
          } else {
            acc = kProduct ? acc * in[i] : acc + in[i];
            o[i] = acc;
          }
        }
      }
    }
    return absl::OkStatus();
  }

 private:
  bool exclusive_ = false, reverse_ = false;
};

template <typename T>
using CumsumOp = CumulativeOp<T, false>;
template <typename T>
using CumprodOp = CumulativeOp<T, true>;
REGISTER_KERNEL_FOR_TYPES("Cumsum", kCpu, "T", CumsumOp, float, double, int32_t, int64_t);
REGISTER_KERNEL_FOR_TYPES("Cumprod", kCpu, "T", CumprodOp, float, double, int32_t, int64_t);

}  // namespace
}  // namespace runnel
