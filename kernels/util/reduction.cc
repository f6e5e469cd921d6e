#include "kernels/util/reduction.h"

#include "core/op_kernel.h"
#include "core/status.h"

namespace runnel {

absl::StatusOr<ReductionPlan> MakeReductionPlan(const TensorShape& x, const Tensor& axes,
                                                bool keep_dims) {
  const int rank = x.dims();
  std::vector<bool> reduce(rank, false);
  RN_REQUIRE(axes.dims() <= 1, "reduction axes must be a scalar or vector, got shape ",
             axes.shape().DebugString());
  for (int64_t i = 0; i < axes.NumElements(); ++i) {
    int64_t a = axes.dtype() == DT_INT32 ? axes.data<int32_t>()[i] : axes.data<int64_t>()[i];
    RN_REQUIRE(a >= -rank && a < rank, "reduction axis ", a, " is out of range for rank ", rank);
    reduce[a < 0 ? a + rank : a] = true;
  }
  ReductionPlan plan;
  for (int i = 0; i < rank; ++i) {
    if (!reduce[i]) {
      plan.out_shape.AddDim(x.dim_size(i));
    } else {
      if (keep_dims) plan.out_shape.AddDim(1);
      plan.count *= x.dim_size(i);
    }
  }
  for (int i = 0; i < rank; ++i) {
    if (x.dim_size(i) == 1) continue;
    if (!plan.groups.empty() && plan.groups.back().second == reduce[i]) {
      plan.groups.back().first *= x.dim_size(i);
    } else {
      plan.groups.emplace_back(x.dim_size(i), reduce[i]);
    }
  }
  for (const auto& g : plan.groups) plan.passes += g.second;
  return plan;
}

}  // namespace runnel
