// Reading whole files, with errors that name the file and what it was meant to be.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace runnel {

// The contents of file `path`; errors call it `what` ("cannot open graph file '...'").
absl::StatusOr<std::string> ReadFileToString(const std::string& path,
                                             absl::string_view what = "file");

}  // namespace runnel
