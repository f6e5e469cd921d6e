#include "core/op_registry.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/types.h"
#include "gtest/gtest.h"

namespace runnel {
namespace {

const OpDef::AttrDef* FindAttr(const OpDef& op, const std::string& name) {
  for (const auto& a : op.attr()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

TEST(OpDefBuilder, ParsesTensorFlowStyleSpecs) {
  auto reg = OpDefBuilder("Example")
                 .Input("values: N * T")
                 .Input("axis: Tidx")
                 .Output("out: T")
                 .Attr("N: int >= 2")
                 .Attr("T: {float, double}")
                 .Attr("Tidx: {int32, int64} = DT_INT32")
                 .Attr("padding: {'SAME', 'VALID'}")
                 .Attr("dims: list(int) >= 0 = []")
                 .Attr("shape: shape = { unknown_rank: true }")
                 .Attr("alpha: float = 0.2")
                 .Finalize();
  ASSERT_TRUE(reg.ok()) << reg.status();
  const OpDef& op = reg->op_def;
  ASSERT_EQ(op.input_arg_size(), 2);
  EXPECT_EQ(op.input_arg(0).number_attr(), "N");
  EXPECT_EQ(op.input_arg(0).type_attr(), "T");
  const auto* n = FindAttr(op, "N");
  EXPECT_TRUE(n->has_minimum());
  EXPECT_EQ(n->minimum(), 2);
  EXPECT_EQ(FindAttr(op, "T")->allowed_values().list().type_size(), 2);
  EXPECT_EQ(FindAttr(op, "Tidx")->default_value().type(), DT_INT32);
  EXPECT_EQ(FindAttr(op, "padding")->type(), "string");
  EXPECT_EQ(FindAttr(op, "padding")->allowed_values().list().s(1), "VALID");
  EXPECT_EQ(FindAttr(op, "dims")->type(), "list(int)");
  EXPECT_TRUE(FindAttr(op, "shape")->default_value().shape().unknown_rank());
  EXPECT_FLOAT_EQ(FindAttr(op, "alpha")->default_value().f(), 0.2f);
}

TEST(OpDefBuilder, BadSpecNamesTheOpAndSpec) {
  auto reg = OpDefBuilder("Broken").Input("x: NotAnAttr").Finalize();
  ASSERT_FALSE(reg.ok());
  EXPECT_NE(std::string(reg.status().message()).find("op Broken: bad input spec 'x: NotAnAttr'"),
            std::string::npos);
}

TEST(OpRegistry, UnknownOpSuggestsTheNearestName) {
  auto reg = OpRegistry::Global()->LookUp("Reul");
  EXPECT_EQ(reg.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(std::string(reg.status().message()).find("did you mean 'Relu'?"), std::string::npos);
}

TEST(OpRegistry, HoldsTheFoundationOps) {
  for (const char* op : {"Const", "Placeholder", "MatMul", "BiasAdd", "StridedSlice", "ConcatV2",
                         "GatherV2", "Softmax", "_Send", "_Recv"}) {
    EXPECT_TRUE(OpRegistry::Global()->LookUp(op).ok()) << op;
  }
}

}  // namespace
}  // namespace runnel

namespace runnel {
namespace {

// The members of a dtype set as op signatures write it, "{float, double}".
std::set<std::string> SetMembers(const std::string& set) {
  std::set<std::string> names;
  for (absl::string_view name :
       absl::StrSplit(absl::StripPrefix(set, "{"), absl::ByAnyChar(",}"), absl::SkipWhitespace())) {
    names.insert(std::string(absl::StripAsciiWhitespace(name)));
  }
  return names;
}

// The same for a C++ type list, as kernel registrations write it.
template <typename... Ts>
std::set<std::string> TypeListMembers() {
  return {DataTypeString(DataTypeToEnum<Ts>::value)...};
}

TEST(DtypeSets, SignatureStringsAndKernelTypeListsAgree) {
  EXPECT_EQ(SetMembers(kFloatTypes), (TypeListMembers<RN_FLOAT_TYPES>()));
  EXPECT_EQ(SetMembers(kSignedTypes), (TypeListMembers<RN_SIGNED_TYPES>()));
  EXPECT_EQ(SetMembers(kRealTypes), (TypeListMembers<RN_REAL_TYPES>()));
  EXPECT_EQ(SetMembers(kAllTypes), (TypeListMembers<RN_ALL_TYPES>()));
  EXPECT_EQ(SetMembers(kRealTypes).size(), 7u);
}

}  // namespace
}  // namespace runnel
