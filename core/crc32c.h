// CRC-32C (Castagnoli), as TFRecord files frame their records: TensorBoard's event files,
// and later TFRecord datasets. Masked as TensorFlow masks a CRC stored beside its data.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace runnel {

uint32_t Crc32c(absl::string_view data);

// TensorFlow's mask: a CRC of data that itself holds CRCs stays meaningful.
inline uint32_t MaskCrc32c(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0xa282ead8u; }

}  // namespace runnel
