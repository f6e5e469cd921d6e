// Reading and writing NumPy .npy files (format versions 1-3, little-endian, C order).
#pragma once

#include <string>

#include "runtime/inference.h"

namespace runnel {

absl::StatusOr<HostTensor> ReadNpy(const std::string& path);
// Written to a temporary name and renamed, so a reader never sees half a file.
absl::Status WriteNpy(const std::string& path, const HostTensor& tensor);

}  // namespace runnel
