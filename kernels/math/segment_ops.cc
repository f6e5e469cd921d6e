// UnsortedSegmentSum: sums the rows of `data` into the segments `segment_ids` names.
#include <cstring>

#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

template <typename T, typename Index>
class UnsortedSegmentSumOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& data = ctx->input(0);
    const Tensor& ids = ctx->input(1);
    ASSIGN_OR_RETURN(int64_t segments, IntScalar(ctx->input(2), "num_segments"));
    RN_REQUIRE(segments >= 0, "num_segments must be non-negative, got ", segments);
    RN_REQUIRE(ids.dims() <= data.dims(), "segment_ids has shape ", ids.shape().DebugString(),
               " but data has shape ", data.shape().DebugString());
    for (int d = 0; d < ids.dims(); ++d) {
      RN_REQUIRE(ids.dim_size(d) == data.dim_size(d), "segment_ids shape ",
                 ids.shape().DebugString(), " must prefix data shape ", data.shape().DebugString());
    }
    TensorShape shape{segments};
    for (int d = ids.dims(); d < data.dims(); ++d) shape.AddDim(data.dim_size(d));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    std::memset(out->raw_data(), 0, out->TotalBytes());
    const int64_t n = ids.NumElements();
    const int64_t row = n == 0 ? 0 : data.NumElements() / n;
    const Index* id = ids.data<Index>();
    const T* in = data.data<T>();
    T* o = out->data<T>();
    for (int64_t i = 0; i < n; ++i) {
      RN_REQUIRE(id[i] >= 0 && id[i] < segments, "segment_ids[", i, "] = ", id[i],
                 " is not in [0, ", segments, ")");
      T* dst = o + id[i] * row;
      const T* src = in + i * row;
      for (int64_t k = 0; k < row; ++k) dst[k] += src[k];
    }
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES_AND_INDICES("UnsortedSegmentSum", kCpu, "T", "Tindices",
                                      UnsortedSegmentSumOp, float, double, int32_t, int64_t);

}  // namespace
}  // namespace runnel
