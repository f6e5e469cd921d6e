// Reading and writing whole files, with errors that name the file and what it was meant to
// be. A write goes to a temporary name, is synced and renamed, so the file is whole or absent.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runnel {

// The contents of file `path`; errors call it `what` ("cannot open graph file '...'").
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             absl::string_view what = "file");

// Writes `contents` to `path` atomically, with permission bits `mode` (0600 for secrets).
absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents,
                                 int mode = 0644);

}  // namespace runnel
