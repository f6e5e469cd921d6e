// Reads small int32/int64 tensors (shapes, axes, indices) as int64 values.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "core/tensor.h"

namespace runnel {

inline absl::StatusOr<std::vector<int64_t>> IntValues(const Tensor& t, const char* what) {
  if (t.dtype() != DT_INT32 && t.dtype() != DT_INT64) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be int32 or int64, got ", DataTypeString(t.dtype())));
  }
  std::vector<int64_t> values(t.NumElements());
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    values[i] = t.dtype() == DT_INT32 ? t.data<int32_t>()[i] : t.data<int64_t>()[i];
  }
  return values;
}

inline absl::StatusOr<int64_t> IntScalar(const Tensor& t, const char* what) {
  if (t.NumElements() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " must be a scalar, got shape ", t.shape().DebugString()));
  }
  auto v = IntValues(t, what);
  if (!v.ok()) return v.status();
  return (*v)[0];
}

}  // namespace runnel
