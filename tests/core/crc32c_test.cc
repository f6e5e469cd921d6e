// CRC-32C against published check values (RFC 3720's iSCSI vectors and the classic
// "123456789"), and TensorFlow's mask against a hand-computed case.
#include "core/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace runnel {
namespace {

TEST(Crc32c, MatchesPublishedCheckValues) {
  EXPECT_EQ(Crc32c(""), 0u);
  EXPECT_EQ(Crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xff')), 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
}

TEST(Crc32c, MaskRotatesRightBy15AndAddsTensorFlowsConstant) {
  // 0x00008000 rotated right by 15 is 1; 1 + 0xa282ead8.
  EXPECT_EQ(MaskCrc32c(0x00008000u), 0xa282ead9u);
  // 1 rotated right by 15 is 0x00020000; the sum wraps at 32 bits for large CRCs.
  EXPECT_EQ(MaskCrc32c(1u), 0xa284ead8u);
  EXPECT_EQ(MaskCrc32c(0xFFFFFFFFu), 0xa282ead7u);
}

}  // namespace
}  // namespace runnel
