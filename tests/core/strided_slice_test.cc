#include "core/strided_slice.h"

#include "gtest/gtest.h"

namespace runnel {
namespace {

StridedSlicePlan Plan(const PartialShape& in, std::vector<int64_t> b, std::vector<int64_t> e,
                      std::vector<int64_t> s, StridedSliceMasks m = {}) {
  auto plan = PlanStridedSlice(in, b, e, s, m);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? *plan : StridedSlicePlan{};
}

TEST(StridedSlice, BasicRangeWithNegativeIndex) {  // x[1:-1]
  auto p = Plan(PartialShape{5}, {1}, {-1}, {1});
  EXPECT_EQ(p.final_shape.DebugString(), "[3]");
  EXPECT_EQ(p.begin[0], 1);
}

TEST(StridedSlice, ReverseWithMasks) {  // x[::-1]
  StridedSliceMasks m;
  m.begin = m.end = 1;
  auto p = Plan(PartialShape{4}, {0}, {0}, {-1}, m);
  EXPECT_EQ(p.final_shape.DebugString(), "[4]");
  EXPECT_EQ(p.begin[0], 3);
  EXPECT_EQ(p.stride[0], -1);
}

TEST(StridedSlice, ShrinkNewAxisAndEllipsis) {  // x[..., None, 2] on [2,3,4]
  StridedSliceMasks m;
  m.ellipsis = 1;
  m.new_axis = 2;
  m.shrink_axis = 4;
  auto p = Plan(PartialShape{2, 3, 4}, {0, 0, 2}, {0, 0, 3}, {1, 1, 1}, m);
  EXPECT_EQ(p.final_shape.DebugString(), "[2,3,1]");
  EXPECT_EQ(p.begin[2], 2);
}

TEST(StridedSlice, StepLargerThanOne) {  // x[1:8:3] on [10] -> 1, 4, 7
  auto p = Plan(PartialShape{10}, {1}, {8}, {3});
  EXPECT_EQ(p.size[0], 3);
}

TEST(StridedSlice, OutOfRangeShrinkIsAnError) {
  StridedSliceMasks m;
  m.shrink_axis = 1;
  auto p = PlanStridedSlice(PartialShape{3}, {5}, {6}, {1}, m);
  EXPECT_FALSE(p.ok());
  EXPECT_NE(std::string(p.status().message()).find("out of bounds"), std::string::npos);
}

TEST(StridedSlice, ZeroStrideIsAnError) {
  EXPECT_FALSE(PlanStridedSlice(PartialShape{3}, {0}, {3}, {0}, {}).ok());
}

}  // namespace
}  // namespace runnel
