#include "core/types.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace runnel {

int DataTypeSize(DataType dtype) {
  switch (BaseType(dtype)) {
    case DT_FLOAT:
    case DT_INT32:
    case DT_UINT32:
      return 4;
    case DT_DOUBLE:
    case DT_INT64:
    case DT_UINT64:
    case DT_COMPLEX64:
      return 8;
    case DT_UINT8:
    case DT_INT8:
    case DT_BOOL:
      return 1;
    case DT_INT16:
    case DT_UINT16:
    case DT_HALF:
    case DT_BFLOAT16:
      return 2;
    case DT_COMPLEX128:
      return 16;
    case DT_STRING:  // an array of std::string (never copied bytewise)
      return sizeof(std::string);
    case DT_RESOURCE:  // an array of ResourceHandle (core/tensor.h), likewise
      return 2 * sizeof(void*);
    default:
      return 0;
  }
}

std::string DataTypeString(DataType dtype) {
  if (IsRefType(dtype)) return DataTypeString(BaseType(dtype)) + "_ref";
  std::string name = DataType_Name(dtype);
  if (name.empty()) return absl::StrCat("unknown dtype ", static_cast<int>(dtype));
  return absl::AsciiStrToLower(name.substr(3));  // strip "DT_"
}

absl::StatusOr<DataType> DataTypeFromString(const std::string& name) {
  std::string upper = absl::AsciiStrToUpper(name);
  if (!absl::StartsWith(upper, "DT_")) upper = "DT_" + upper;
  DataType dtype;
  if (DataType_Parse(upper, &dtype)) return dtype;
  return absl::InvalidArgumentError(absl::StrCat("unknown dtype '", name, "'"));
}

bool IsFloatingType(DataType dtype) {
  switch (BaseType(dtype)) {
    case DT_FLOAT:
    case DT_DOUBLE:
    case DT_HALF:
    case DT_BFLOAT16:
      return true;
    default:
      return false;
  }
}

bool IsIntegerType(DataType dtype) {
  switch (BaseType(dtype)) {
    case DT_INT8:
    case DT_INT16:
    case DT_INT32:
    case DT_INT64:
    case DT_UINT8:
    case DT_UINT16:
    case DT_UINT32:
    case DT_UINT64:
      return true;
    default:
      return false;
  }
}

}  // namespace runnel
