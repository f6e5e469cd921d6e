// Cast between every pair of the dtypes Runnel computes on. Floats to integers truncate
// toward zero, as static_cast and TensorFlow do.
#include "core/kernel_registry.h"

namespace runnel {
namespace {

class CastOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("SrcT", &src_));
    RETURN_IF_ERROR(ctx->GetAttr("DstT", &dst_));
    bool known = VisitDataType(src_, [](auto) {}) && VisitDataType(dst_, [](auto) {});
    RN_REQUIRE(known, "Cast from ", DataTypeString(src_), " to ", DataTypeString(dst_),
               " is not supported");
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    if (src_ == dst_) {
      ctx->set_output(0, x);
      return absl::OkStatus();
    }
    Tensor* y;
    RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &y));
    VisitDataType(src_, [&](auto src_zero) {
      using S = decltype(src_zero);
      VisitDataType(dst_, [&](auto dst_zero) {
        using D = decltype(dst_zero);
        const S* in = x.data<S>();
        D* out = y->data<D>();
        ctx->thread_pool()->ParallelFor(x.NumElements(), 2, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) {
            if constexpr (std::is_same_v<D, bool>)
              out[i] = in[i] != S(0);
            else
              out[i] = static_cast<D>(in[i]);
          }
        });
      });
    });
    return absl::OkStatus();
  }

 private:
  DataType src_ = DT_INVALID, dst_ = DT_INVALID;
};

REGISTER_KERNEL(KernelDefBuilder("Cast").Device(kCpu), CastOp);

}  // namespace
}  // namespace runnel
