#include "kernels/util/broadcast.h"

#include "absl/strings/str_cat.h"

namespace runnel {

absl::StatusOr<BroadcastPlan> MakeBroadcastPlan(const TensorShape& x, const TensorShape& y) {
  const int rank = std::max(x.dims(), y.dims());
  BroadcastPlan plan;
  DimVector out(rank), xd(rank), yd(rank);
  for (int i = 0; i < rank; ++i) {
    int ix = i - (rank - x.dims()), iy = i - (rank - y.dims());
    xd[i] = ix >= 0 ? x.dim_size(ix) : 1;
    yd[i] = iy >= 0 ? y.dim_size(iy) : 1;
    if (xd[i] != yd[i] && xd[i] != 1 && yd[i] != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("incompatible shapes: ", x.DebugString(), " vs. ", y.DebugString()));
    }
    out[i] = xd[i] == 1 ? yd[i] : xd[i];
  }
  plan.out_shape = TensorShape(out);
  // Collapse neighbouring dims whose broadcast pattern is the same; drop size-1 dims.
  DimVector dims;
  std::vector<std::pair<bool, bool>> kinds;  // (x repeats, y repeats)
  for (int i = 0; i < rank; ++i) {
    if (out[i] == 1) continue;
    std::pair<bool, bool> kind{xd[i] == 1, yd[i] == 1};
    if (!dims.empty() && kinds.back() == kind) {
      dims.back() *= out[i];
    } else {
      dims.push_back(out[i]);
      kinds.push_back(kind);
    }
  }
  if (dims.empty()) {
    dims.push_back(1);
    kinds.push_back({false, false});
  }
  const int n = static_cast<int>(dims.size());
  plan.dims = dims;
  plan.x_strides.assign(n, 0);
  plan.y_strides.assign(n, 0);
  int64_t xs = 1, ys = 1;
  for (int i = n - 1; i >= 0; --i) {
    if (!kinds[i].first) {
      plan.x_strides[i] = xs;
      xs *= dims[i];
    }
    if (!kinds[i].second) {
      plan.y_strides[i] = ys;
      ys *= dims[i];
    }
  }
  return plan;
}

}  // namespace runnel
