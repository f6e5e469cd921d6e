#include "tools/runnel-run/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/file_util.h"

namespace runnel {
namespace {

struct Descr {
  const char* code;
  ElementType type;
};
constexpr Descr kDescrs[] = {
    {"<f4", ElementType::kFloat}, {"<f8", ElementType::kDouble}, {"<i4", ElementType::kInt32},
    {"|u1", ElementType::kUInt8}, {"<i2", ElementType::kInt16},  {"|i1", ElementType::kInt8},
    {"<i8", ElementType::kInt64}, {"|b1", ElementType::kBool},   {"<u2", ElementType::kUInt16},
};

// The value of `key` in the header dict: the text after "'key':" up to the next comma at
// depth 0 or the closing brace.
std::string Field(const std::string& header, const std::string& key) {
  const size_t at = header.find("'" + key + "'");
  if (at == std::string::npos) return "";
  size_t i = header.find(':', at);
  if (i == std::string::npos) return "";
  int depth = 0;
  std::string value;
  for (++i; i < header.size(); ++i) {
    const char c = header[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    if (c != ' ' && c != '\'') value += c;
  }
  return value;
}

}  // namespace

absl::StatusOr<HostTensor> ReadNpy(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a usable .npy file: ", why));
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0) return bad("no NUMPY magic");
  const int major = static_cast<unsigned char>(bytes[6]);
  size_t header_len, offset;
  if (major == 1) {
    header_len = static_cast<unsigned char>(bytes[8]) | static_cast<unsigned char>(bytes[9]) << 8;
    offset = 10;
  } else {
    if (bytes.size() < 12) return bad("truncated header");
    header_len = 0;
    for (int k = 3; k >= 0; --k) {
      header_len = header_len << 8 | static_cast<unsigned char>(bytes[8 + k]);
    }
    offset = 12;
  }
  if (offset + header_len > bytes.size()) return bad("truncated header");
  const std::string header = bytes.substr(offset, header_len);
  offset += header_len;
  const std::string descr = Field(header, "descr");
  const Descr* match = nullptr;
  for (const Descr& d : kDescrs) {
    if (descr == d.code) match = &d;
  }
  if (match == nullptr) return bad(absl::StrCat("unsupported dtype '", descr, "'"));
  if (Field(header, "fortran_order") != "False") return bad("Fortran order is not supported");
  std::string shape_text = Field(header, "shape");
  std::vector<int64_t> shape;
  for (size_t i = 0; i < shape_text.size();) {
    if (!isdigit(static_cast<unsigned char>(shape_text[i]))) {
      ++i;
      continue;
    }
    int64_t d = 0;
    while (i < shape_text.size() && isdigit(static_cast<unsigned char>(shape_text[i]))) {
      d = d * 10 + (shape_text[i++] - '0');
      if (d > (int64_t{1} << 40)) return bad("dimension too large");
    }
    shape.push_back(d);
  }
  HostTensor tensor(match->type, shape);
  if (bytes.size() - offset != tensor.num_bytes()) {
    return bad(absl::StrCat("holds ", bytes.size() - offset, " bytes of data, its header says ",
                            tensor.num_bytes()));
  }
  std::memcpy(tensor.raw_data(), bytes.data() + offset, tensor.num_bytes());
  return tensor;
}

absl::Status WriteNpy(const std::string& path, const HostTensor& tensor) {
  const char* code = nullptr;
  for (const Descr& d : kDescrs) {
    if (d.type == tensor.type()) code = d.code;
  }
  if (code == nullptr) return absl::InvalidArgumentError("no .npy dtype for this tensor");
  std::vector<std::string> dims;
  for (int64_t d : tensor.shape()) dims.push_back(std::to_string(d));
  std::string shape = absl::StrJoin(dims, ", ");
  if (dims.size() == 1) shape += ",";
  std::string header =
      absl::StrCat("{'descr': '", code, "', 'fortran_order': False, 'shape': (", shape, "), }");
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string contents("\x93NUMPY\x01\x00", 8);
  contents += static_cast<char>(header.size() & 0xff);
  contents += static_cast<char>(header.size() >> 8);
  contents += header;
  contents.append(static_cast<const char*>(tensor.raw_data()), tensor.num_bytes());
  return WriteFileAtomically(path, contents);
}

}  // namespace runnel
