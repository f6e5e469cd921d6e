// DataType helpers: names, sizes, the C++ type of each dtype, and dispatch over dtypes.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "core/proto/types.pb.h"

namespace runnel {

// Size in bytes of one element; 0 for types Runnel cannot hold in a flat buffer.
int DataTypeSize(DataType dtype);
// TensorFlow's short name: "float", "int32", "bool", ...
std::string DataTypeString(DataType dtype);
// Parses "float", "int32", "DT_FLOAT", ...
absl::StatusOr<DataType> DataTypeFromString(const std::string& name);
// TensorFlow's reference dtypes are 101-199 (DT_FLOAT_REF = 101); anything larger is an
// unknown dtype, not a reference to one.
inline bool IsRefType(DataType dtype) { return dtype > 100 && dtype < 200; }
inline DataType BaseType(DataType dtype) {
  return IsRefType(dtype) ? static_cast<DataType>(dtype - 100) : dtype;
}
bool IsFloatingType(DataType dtype);
bool IsIntegerType(DataType dtype);

// The dtype sets that op signatures name (`.Attr(absl::StrCat("T: ", kRealTypes))`), and
// the same sets as C++ type lists for kernel registrations
// (`REGISTER_KERNEL_FOR_TYPES("Neg", kCpu, "T", NegOp, RN_SIGNED_TYPES)`); a test checks
// that each pair agrees.
inline constexpr char kFloatTypes[] = "{float, double}";
inline constexpr char kSignedTypes[] = "{float, double, int32, int64, int16, int8}";
inline constexpr char kRealTypes[] = "{float, double, int32, int64, uint8, int16, int8}";
inline constexpr char kAllTypes[] = "{float, double, int32, int64, uint8, int16, int8, bool}";
#define RN_FLOAT_TYPES float, double
#define RN_SIGNED_TYPES float, double, int32_t, int64_t, int16_t, int8_t
#define RN_REAL_TYPES float, double, int32_t, int64_t, uint8_t, int16_t, int8_t
#define RN_ALL_TYPES RN_REAL_TYPES, bool

template <typename T>
struct DataTypeToEnum;
#define RN_MATCH_TYPE_AND_ENUM(TYPE, ENUM)  \
  template <>                               \
  struct DataTypeToEnum<TYPE> {             \
    static constexpr DataType value = ENUM; \
  }
RN_MATCH_TYPE_AND_ENUM(float, DT_FLOAT);
RN_MATCH_TYPE_AND_ENUM(double, DT_DOUBLE);
RN_MATCH_TYPE_AND_ENUM(int32_t, DT_INT32);
RN_MATCH_TYPE_AND_ENUM(int64_t, DT_INT64);
RN_MATCH_TYPE_AND_ENUM(uint8_t, DT_UINT8);
RN_MATCH_TYPE_AND_ENUM(int8_t, DT_INT8);
RN_MATCH_TYPE_AND_ENUM(int16_t, DT_INT16);
RN_MATCH_TYPE_AND_ENUM(uint16_t, DT_UINT16);
RN_MATCH_TYPE_AND_ENUM(bool, DT_BOOL);
#undef RN_MATCH_TYPE_AND_ENUM

// Calls fn(T{}) with T the C++ type of `dtype`, for the dtypes Runnel computes on
// (float, double, int32, int64, uint8, int8, int16, uint16, bool). Returns false when
// `dtype` is not one of them.
template <typename Fn>
bool VisitDataType(DataType dtype, Fn&& fn) {
  switch (dtype) {
    case DT_FLOAT:
      fn(float{});
      return true;
    case DT_DOUBLE:
      fn(double{});
      return true;
    case DT_INT32:
      fn(int32_t{});
      return true;
    case DT_INT64:
      fn(int64_t{});
      return true;
    case DT_UINT8:
      fn(uint8_t{});
      return true;
    case DT_INT8:
      fn(int8_t{});
      return true;
    case DT_INT16:
      fn(int16_t{});
      return true;
    case DT_UINT16:
      fn(uint16_t{});
      return true;
    case DT_BOOL:
      fn(bool{});
      return true;
    default:
      return false;
  }
}

}  // namespace runnel
