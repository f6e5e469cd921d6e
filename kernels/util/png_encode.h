// PNG encoding (libpng) for the kernels that produce images: EncodePng and ImageSummary.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"

namespace runnel {

// Appends `pixels` (height rows of width x channels samples of `depth` bits, 8 or 16, in
// this machine's byte order; 1 to 4 channels: gray, gray + alpha, RGB, RGBA) as a PNG to
// `out`. `compression` is zlib's level 0-9, or -1 for its default.
absl::Status EncodePng(const uint8_t* pixels, int height, int width, int channels, int depth,
                       int compression, std::string* out);

}  // namespace runnel
