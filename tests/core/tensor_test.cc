#include "core/tensor.h"

#include <limits>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

using testing::MakeTensor;
using testing::Values;

TEST(TensorShape, NumElementsAndDebugString) {
  TensorShape s{2, 3, 4};
  EXPECT_EQ(s.num_elements(), 24);
  EXPECT_EQ(s.DebugString(), "[2,3,4]");
  EXPECT_EQ(TensorShape{}.num_elements(), 1);
  EXPECT_EQ(TensorShape({0, 5}).num_elements(), 0);
}

TEST(TensorShape, FromDims_RejectsNegativeAndOverflow) {
  EXPECT_FALSE(TensorShape::FromDims({2, -1}).ok());
  EXPECT_FALSE(TensorShape::FromDims({int64_t{1} << 40, int64_t{1} << 40}).ok());
}

TEST(PartialShape, CompatibilityAndMerge) {
  PartialShape a{-1, 784}, b{100, -1}, c{100, 10};
  EXPECT_TRUE(a.IsCompatibleWith(b));
  EXPECT_FALSE(a.IsCompatibleWith(c));
  auto merged = a.Merge(b);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->DebugString(), "[100,784]");
  EXPECT_TRUE(PartialShape::UnknownRank().IsCompatibleWith(c));
  EXPECT_EQ(PartialShape::UnknownRank().DebugString(), "<unknown>");
}

// A placeholder's shape attr may claim more elements than an int64 holds (found by
// tools/fuzz/model_fuzzer: Reshape's shape function multiplied them, overflowing).
TEST(PartialShape, NumElementsIsUnknownWhenItOverflows) {
  EXPECT_EQ((PartialShape{4, 3}).num_elements(), 12);
  EXPECT_EQ((PartialShape{-1, 3}).num_elements(), -1);
  EXPECT_EQ((PartialShape{std::numeric_limits<int64_t>::max(), 3}).num_elements(), -1);
  EXPECT_EQ((PartialShape{int64_t{1} << 32, int64_t{1} << 32}).num_elements(), -1);
}

TEST(Tensor, BufferIs64ByteAligned) {
  for (int n : {1, 3, 100, 1000}) {
    Tensor t(DT_FLOAT, TensorShape{n});
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw_data()) % 64, 0u);
  }
}

TEST(Tensor, CopiesShareTheBuffer) {
  Tensor a = MakeTensor<float>({2, 2}, {1, 2, 3, 4});
  EXPECT_TRUE(a.RefCountIsOne());
  Tensor b = a;
  EXPECT_FALSE(a.RefCountIsOne());
  b.data<float>()[0] = 9;
  EXPECT_EQ(a.data<float>()[0], 9);
}

TEST(Tensor, SliceAndReshapeShareTheBuffer) {
  Tensor a = MakeTensor<int32_t>({3, 2}, {1, 2, 3, 4, 5, 6});
  Tensor rows = a.Slice(1, 3);
  EXPECT_EQ(rows.shape(), TensorShape({2, 2}));
  EXPECT_EQ(Values<int32_t>(rows), (std::vector<int32_t>{3, 4, 5, 6}));
  EXPECT_TRUE(rows.SharesBufferWith(a));
  auto flat = a.Reshaped(TensorShape{6});
  ASSERT_TRUE(flat.ok());
  EXPECT_TRUE(flat->SharesBufferWith(a));
  EXPECT_FALSE(a.Reshaped(TensorShape{4}).ok());
}

TEST(Tensor, ProtoRoundTrip) {
  Tensor a = MakeTensor<double>({2, 3}, {1, 2, 3, 4, 5, 6});
  TensorProto proto;
  a.AsProto(&proto);
  auto b = Tensor::FromProto(proto);
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->shape(), a.shape());
  EXPECT_EQ(Values<double>(*b), Values<double>(a));
}

TEST(Tensor, FromProto_RepeatsTheLastTypedValue) {
  // TensorFlow stores a zero-filled constant as a single value.
  TensorProto proto;
  proto.set_dtype(DT_FLOAT);
  proto.mutable_tensor_shape()->add_dim()->set_size(4);
  proto.add_float_val(1.5f);
  proto.add_float_val(2.5f);
  auto t = Tensor::FromProto(proto);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Values<float>(*t), (std::vector<float>{1.5f, 2.5f, 2.5f, 2.5f}));
}

TEST(Tensor, FromProto_RejectsWrongContentSize) {
  TensorProto proto;
  proto.set_dtype(DT_FLOAT);
  proto.mutable_tensor_shape()->add_dim()->set_size(4);
  proto.set_tensor_content(std::string(12, '\0'));
  auto t = Tensor::FromProto(proto);
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(t.status().message()).find("needs 16 bytes"), std::string::npos);
}

// A hostile proto: a 2^60-element shape. Checked before anything is allocated, so the
// answer is an error, never std::bad_alloc.
TEST(Tensor, FromProto_HugeShapeIsAnErrorNotAnAllocation) {
  TensorProto proto;
  proto.set_dtype(DT_FLOAT);
  proto.mutable_tensor_shape()->add_dim()->set_size(int64_t{1} << 30);
  proto.mutable_tensor_shape()->add_dim()->set_size(int64_t{1} << 30);
  proto.set_tensor_content(std::string(8, '\0'));
  EXPECT_STATUS(Tensor::FromProto(proto).status(), absl::StatusCode::kInvalidArgument,
                "needs 4611686018427387904 bytes", "has 8");
  proto.clear_tensor_content();  // no content: all zeros, too many to hold
  auto zeros = Tensor::FromProto(proto);
  EXPECT_EQ(zeros.status().code(), absl::StatusCode::kResourceExhausted) << zeros.status();
  proto.set_dtype(DT_STRING);  // 2^60 strings of 32 bytes: more than an int64 counts
  proto.add_string_val("x");
  EXPECT_STATUS(Tensor::FromProto(proto).status(), absl::StatusCode::kInvalidArgument, "too large");
  proto.mutable_tensor_shape()->mutable_dim(0)->set_size(int64_t{1} << 20);
  EXPECT_EQ(Tensor::FromProto(proto).status().code(), absl::StatusCode::kResourceExhausted);
}

TEST(Tensor, FromProto_RejectsTooManyValuesAndNegativeDims) {
  TensorProto proto;
  proto.set_dtype(DT_INT32);
  proto.mutable_tensor_shape()->add_dim()->set_size(1);
  proto.add_int_val(1);
  proto.add_int_val(2);
  EXPECT_FALSE(Tensor::FromProto(proto).ok());
  proto.mutable_tensor_shape()->mutable_dim(0)->set_size(-3);
  EXPECT_FALSE(Tensor::FromProto(proto).ok());
}

TEST(DataType, NamesRoundTrip) {
  EXPECT_EQ(DataTypeString(DT_FLOAT), "float");
  EXPECT_EQ(DataTypeString(DT_INT64), "int64");
  EXPECT_EQ(*DataTypeFromString("int32"), DT_INT32);
  EXPECT_EQ(*DataTypeFromString("DT_BOOL"), DT_BOOL);
  EXPECT_FALSE(DataTypeFromString("floot").ok());
  EXPECT_EQ(DataTypeSize(DT_DOUBLE), 8);
}

TEST(Tensor, FromProtoRefusesToExpandAFewBytesPastTwoGigabytes) {
  TensorProto proto;  // 2^29 + 1 floats from one value: 2 GiB and 4 bytes
  proto.set_dtype(DT_FLOAT);
  proto.mutable_tensor_shape()->add_dim()->set_size((int64_t{1} << 29) + 1);
  proto.add_float_val(1.5f);
  EXPECT_STATUS(Tensor::FromProto(proto).status(), absl::StatusCode::kResourceExhausted,
                "tensor proto of dtype float and shape [536870913] would take more than 2 GiB, "
                "the most a tensor read from a proto may take");
  proto.mutable_tensor_shape()->mutable_dim(0)->set_size(1 << 20);
  auto t = Tensor::FromProto(proto);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->data<float>()[(1 << 20) - 1], 1.5f);
  // 2^24 copies of a 200-byte string: 512 MB of std::string and 3.2 GB of characters.
  TensorProto strings;
  strings.set_dtype(DT_STRING);
  strings.mutable_tensor_shape()->add_dim()->set_size(1 << 24);
  strings.add_string_val(std::string(200, 'x'));
  EXPECT_STATUS(Tensor::FromProto(strings).status(), absl::StatusCode::kResourceExhausted,
                "dtype string and shape [16777216] would take more than 2 GiB");
}

// A dtype number read from a file may be anything: only 101-199 are references (found by
// tools/fuzz/tensor_proto_fuzzer: a huge one recursed once per 100 until the stack ran out).
TEST(DataType, OnlyTensorFlowsRangeIsReferencesAndUnknownNumbersAreNamed) {
  EXPECT_EQ(DataTypeString(DT_FLOAT_REF), "float_ref");
  EXPECT_EQ(DataTypeString(static_cast<DataType>(150)), "unknown dtype 50_ref");
  EXPECT_EQ(DataTypeString(static_cast<DataType>(1 << 30)), "unknown dtype 1073741824");
  EXPECT_EQ(DataTypeString(static_cast<DataType>(-7)), "unknown dtype -7");
  TensorProto proto;
  proto.set_dtype(static_cast<DataType>(1588065));
  EXPECT_STATUS(Tensor::FromProto(proto).status(), absl::StatusCode::kUnimplemented,
                "tensors of dtype unknown dtype 1588065 are not supported");
}

}  // namespace
}  // namespace runnel

namespace runnel {
namespace {

TEST(Tensor, StringsConstructCopySliceAndSerialize) {
  Tensor t(DT_STRING, TensorShape{3});
  t.data<std::string>()[0] = "a";
  t.data<std::string>()[1] = std::string(1000, 'x');  // heap-allocated
  t.data<std::string>()[2] = std::string("\0b", 2);
  Tensor copy = t.Clone();
  t.data<std::string>()[0] = "changed";
  EXPECT_EQ(copy.data<std::string>()[0], "a");
  EXPECT_EQ(copy.Slice(1, 3).data<std::string>()[1], std::string("\0b", 2));
  TensorProto proto;
  copy.AsProto(&proto);
  EXPECT_EQ(proto.string_val_size(), 3);
  auto back = Tensor::FromProto(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->data<std::string>()[1], std::string(1000, 'x'));
  proto.clear_string_val();
  proto.add_string_val("same");  // one value fills the shape, as for numbers
  auto filled = Tensor::FromProto(proto);
  ASSERT_TRUE(filled.ok());
  EXPECT_EQ(filled->data<std::string>()[2], "same");
}

}  // namespace
}  // namespace runnel
