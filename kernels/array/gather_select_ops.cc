// GatherV2 (rows of params picked by indices) and Select/SelectV2 (pick from t or e).
#include <cstring>

#include "core/kernel_registry.h"
#include "kernels/util/broadcast.h"
#include "kernels/util/int_values.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

template <typename Index>
class GatherV2Op : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& params = ctx->input(0);
    const Tensor& indices = ctx->input(1);
    ASSIGN_OR_RETURN(int64_t axis, IntScalar(ctx->input(2), "axis"));
    ASSIGN_OR_RETURN(GatherPlan plan, PlanGather(params.shape(), indices.shape(), axis));
    const TensorShape& shape = plan.out_shape;
    const int64_t outer = plan.outer, inner = plan.inner, limit = plan.limit;
    const Index* idx = indices.data<Index>();
    const int64_t n = indices.NumElements();
    for (int64_t i = 0; i < n; ++i) {
      RN_REQUIRE(idx[i] >= 0 && idx[i] < limit, "indices[", i, "] = ", idx[i], " is not in [0, ",
                 limit, ")");
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    const int64_t bytes = inner * DataTypeSize(params.dtype());
    const char* src = static_cast<const char*>(params.raw_data());
    char* dst = static_cast<char*>(out->raw_data());
    if (bytes == 0) return absl::OkStatus();
    ctx->thread_pool()->ParallelFor(outer * n, bytes / 8 + 4, [&](int64_t b, int64_t e) {
      for (int64_t k = b; k < e; ++k) {
        int64_t o = k / n, i = k % n;
        std::memcpy(dst + k * bytes, src + (o * limit + idx[i]) * bytes, bytes);
      }
    });
    return absl::OkStatus();
  }
};

// Select: condition matches t's shape, or is a vector over t's first dim.
// SelectV2: all three broadcast.
template <bool kBroadcast>
class SelectOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& cond = ctx->input(0);
    const Tensor& t = ctx->input(1);
    const Tensor& e = ctx->input(2);
    const int elem = DataTypeSize(t.dtype());
    if (!kBroadcast) {
      RN_REQUIRE(t.shape() == e.shape(), "t and e must have the same shape, got ",
                 t.shape().DebugString(), " and ", e.shape().DebugString());
      bool rows = cond.dims() == 1 && t.dims() > 1;
      RN_REQUIRE(cond.shape() == t.shape() || (rows && cond.dim_size(0) == t.dim_size(0)) ||
                     cond.dims() == 0,
                 "condition has shape ", cond.shape().DebugString(), " but t has shape ",
                 t.shape().DebugString());
      Tensor* out;
      RETURN_IF_ERROR(ctx->allocate_output(0, t.shape(), &out));
      const int64_t n = t.NumElements();
      const int64_t per = cond.NumElements() == 0
                              ? 1
                              : std::max<int64_t>(1, n / std::max<int64_t>(cond.NumElements(), 1));
      const bool* c = cond.data<bool>();
      for (int64_t i = 0; i < n; ++i) {
        bool take_t = cond.dims() == 0 ? c[0] : c[i / per];
        std::memcpy(static_cast<char*>(out->raw_data()) + i * elem,
                    static_cast<const char*>((take_t ? t : e).raw_data()) + i * elem, elem);
      }
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(BroadcastPlan te, MakeBroadcastPlan(t.shape(), e.shape()));
    ASSIGN_OR_RETURN(BroadcastPlan all, MakeBroadcastPlan(cond.shape(), te.out_shape));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, all.out_shape, &out));
    const int64_t n = out->NumElements();
    if (n == 0) return absl::OkStatus();
    // Index maps for each operand into the broadcast output, element by element.
    auto offsets = [&](const TensorShape& shape) {
      std::vector<int64_t> off(n);
      auto plan = MakeBroadcastPlan(shape, all.out_shape);
      const int64_t inner = plan->dims.back();
      ForEachBroadcastRow(*plan, 0, n / inner, [&](int64_t row, int64_t xo, int64_t) {
        for (int64_t i = 0; i < inner; ++i) off[row * inner + i] = xo + i * plan->x_strides.back();
      });
      return off;
    };
    std::vector<int64_t> co = offsets(cond.shape()), to = offsets(t.shape()),
                         eo = offsets(e.shape());
    const bool* c = cond.data<bool>();
    char* o = static_cast<char*>(out->raw_data());
    for (int64_t i = 0; i < n; ++i) {
      const char* src = c[co[i]] ? static_cast<const char*>(t.raw_data()) + to[i] * elem
                                 : static_cast<const char*>(e.raw_data()) + eo[i] * elem;
      std::memcpy(o + i * elem, src, elem);
    }
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("GatherV2", kCpu, "Tindices", GatherV2Op, int32_t, int64_t);
REGISTER_KERNEL(KernelDefBuilder("Select").Device(kCpu), SelectOp<false>);
REGISTER_KERNEL(KernelDefBuilder("SelectV2").Device(kCpu), SelectOp<true>);

}  // namespace
}  // namespace runnel
