// The pass tests' comparison itself: a rewritten graph whose int64, bool or string outputs
// differ from the original's must fail, not only one whose floats differ.
#include "tests/runtime/passes/pass_test_util.h"

#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace runnel::testing {
namespace {

Tensor Strings(std::vector<std::string> values) {
  Tensor t(DT_STRING, {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), t.data<std::string>());
  return t;
}

TEST(ExpectSameValues, ReportsTheFirstDifferingElementOfEveryDtype) {
  EXPECT_NONFATAL_FAILURE(ExpectSameValues(MakeTensor<int64_t>({3}, {1, 2, 3}),
                                           MakeTensor<int64_t>({3}, {1, 5, 3}), "i", 0),
                          "i[1]");
  EXPECT_NONFATAL_FAILURE(ExpectSameValues(MakeTensor<bool>({2}, {true, false}),
                                           MakeTensor<bool>({2}, {true, true}), "b", 0),
                          "b[1]");
  EXPECT_NONFATAL_FAILURE(ExpectSameValues(Strings({"a", "b"}), Strings({"a", "c"}), "s", 0),
                          "s[1]");
  EXPECT_NONFATAL_FAILURE(
      ExpectSameValues(MakeTensor<double>({1}, {1.0}), MakeTensor<double>({1}, {1.1}), "d", 1e-5),
      "d[0]");
  EXPECT_FATAL_FAILURE(ExpectSameValues(MakeTensor<int32_t>({2}, {1, 2}),
                                        MakeTensor<int32_t>({1, 2}, {1, 2}), "shape", 0),
                       "shape: [2] vs [1,2]");
}

TEST(ExpectSameValues, AcceptsEqualValuesAndFloatsWithinTheTolerance) {
  ExpectSameValues(MakeTensor<int64_t>({2}, {7, -7}), MakeTensor<int64_t>({2}, {7, -7}), "i", 0);
  ExpectSameValues(Strings({"x"}), Strings({"x"}), "s", 0);
  ExpectSameValues(MakeTensor<float>({1}, {100.f}), MakeTensor<float>({1}, {100.0001f}), "f", 1e-5);
}

}  // namespace
}  // namespace runnel::testing
