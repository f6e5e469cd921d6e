// Error-handling helpers. Every fallible call in Runnel returns absl::Status or
// absl::StatusOr<T>; these macros keep the happy path readable.
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

#define RN_CONCAT_INNER(a, b) a##b
#define RN_CONCAT(a, b) RN_CONCAT_INNER(a, b)

#define RETURN_IF_ERROR(expr)                \
  do {                                       \
    ::absl::Status _rn_status = (expr);      \
    if (!_rn_status.ok()) return _rn_status; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  RN_ASSIGN_OR_RETURN_IMPL(RN_CONCAT(_rn_statusor_, __LINE__), lhs, expr)

#define RN_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()

namespace runnel {

// Returns `status` with `suffix` appended to its message, keeping the code.
inline absl::Status AppendToMessage(const absl::Status& status, absl::string_view suffix) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(status.message(), suffix));
}

}  // namespace runnel
