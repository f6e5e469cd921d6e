#include "core/strided_slice.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace runnel {
namespace {
constexpr int kNewAxis = -1;
constexpr int kShrinkAxis = -2;
}  // namespace

absl::Status ReadStridedSliceMasks(const AttrSlice& attrs, StridedSliceMasks* masks) {
  RETURN_IF_ERROR(attrs.Get("begin_mask", &masks->begin));
  RETURN_IF_ERROR(attrs.Get("end_mask", &masks->end));
  RETURN_IF_ERROR(attrs.Get("ellipsis_mask", &masks->ellipsis));
  RETURN_IF_ERROR(attrs.Get("new_axis_mask", &masks->new_axis));
  return attrs.Get("shrink_axis_mask", &masks->shrink_axis);
}

absl::StatusOr<StridedSlicePlan> PlanStridedSlice(const PartialShape& input,
                                                  const std::vector<int64_t>& begin,
                                                  const std::vector<int64_t>& end,
                                                  const std::vector<int64_t>& strides,
                                                  const StridedSliceMasks& masks) {
  const int sparse_dims = static_cast<int>(begin.size());
  if (end.size() != begin.size() || strides.size() != begin.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("begin, end and strides must have the same length, got ", begin.size(), ", ",
                     end.size(), ", ", strides.size()));
  }
  if (masks.ellipsis & (masks.ellipsis - 1)) {
    return absl::InvalidArgumentError("only one ellipsis is allowed (ellipsis_mask)");
  }
  const int rank = input.rank();
  // Without an ellipsis, an implicit one stands after the last index.
  int64_t ellipsis = masks.ellipsis;
  int entries = sparse_dims;
  if (ellipsis == 0) {
    ellipsis = int64_t{1} << sparse_dims;
    ++entries;
  }
  int new_axes_after_ellipsis = 0;
  bool after = false;
  for (int i = 0; i < sparse_dims; ++i) {
    if (after && (masks.new_axis >> i & 1)) ++new_axes_after_ellipsis;
    if (ellipsis >> i & 1) after = true;
  }

  StridedSlicePlan plan;
  plan.begin.assign(rank, 0);
  plan.stride.assign(rank, 1);
  plan.size.assign(rank, 0);
  std::vector<bool> begin_full(rank, false), end_full(rank, false), shrink(rank, false);
  std::vector<int64_t> end_index(rank, 0);
  std::vector<int> gather;
  int full = 0;
  for (int i = 0; i < entries; ++i) {
    if (ellipsis >> i & 1) {
      int next = std::min(rank - (entries - 1 - i) + new_axes_after_ellipsis, rank);
      // Entries after the ellipsis that are new axes do not consume input dims.
      for (; full < next; ++full) {
        begin_full[full] = end_full[full] = true;
        gather.push_back(full);
      }
      continue;
    }
    if (masks.new_axis >> i & 1) {
      gather.push_back(kNewAxis);
      continue;
    }
    if (full >= rank) {
      return absl::InvalidArgumentError(
          absl::StrCat("index ", i, " of the slice is beyond the input's rank ", rank));
    }
    plan.begin[full] = begin[i];
    end_index[full] = end[i];
    plan.stride[full] = strides[i];
    begin_full[full] = masks.begin >> i & 1;
    end_full[full] = masks.end >> i & 1;
    shrink[full] = masks.shrink_axis >> i & 1;
    gather.push_back(shrink[full] ? kShrinkAxis : full);
    ++full;
  }
  for (; full < rank; ++full) {  // dims not named by the spec are taken whole
    begin_full[full] = end_full[full] = true;
    gather.push_back(full);
  }

  for (int d = 0; d < rank; ++d) {
    const int64_t dim = input.dim(d);
    int64_t stride = plan.stride[d];
    if (stride == 0) {
      return absl::InvalidArgumentError(absl::StrCat("stride of dim ", d, " is 0"));
    }
    if (shrink[d]) {
      if (dim < 0) {
        plan.size[d] = 1;
        continue;
      }
      int64_t x = plan.begin[d] < 0 ? plan.begin[d] + dim : plan.begin[d];
      if (x < 0 || x >= dim) {
        return absl::InvalidArgumentError(absl::StrCat(
            "slice index ", plan.begin[d], " of dimension ", d, " out of bounds for size ", dim));
      }
      plan.begin[d] = x;
      plan.stride[d] = 1;
      plan.size[d] = 1;
      continue;
    }
    if (dim < 0) {
      plan.size[d] = -1;
      continue;
    }
    auto canonical = [&](int64_t x, bool full_range, bool is_begin) {
      if (full_range) {
        if (stride > 0) return is_begin ? int64_t{0} : dim;
        return is_begin ? dim - 1 : int64_t{-1};
      }
      int64_t v = x < 0 ? x + dim : x;
      return stride > 0 ? std::clamp<int64_t>(v, 0, dim) : std::clamp<int64_t>(v, -1, dim - 1);
    };
    int64_t b = canonical(plan.begin[d], begin_full[d], true);
    int64_t e = canonical(end_index[d], end_full[d], false);
    int64_t size = stride > 0 ? (e > b ? (e - b + stride - 1) / stride : 0)
                              : (b > e ? (b - e + (-stride) - 1) / (-stride) : 0);
    plan.begin[d] = b;
    plan.size[d] = size;
  }
  for (int g : gather) {
    if (g == kNewAxis) {
      plan.final_shape.AddDim(1);
    } else if (g != kShrinkAxis) {
      plan.final_shape.AddDim(plan.size[g]);
    }
  }
  return plan;
}

}  // namespace runnel
