#include "core/file_util.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace runnel {

absl::StatusOr<std::string> ReadFileToString(const std::string& path, absl::string_view what) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is a directory"));
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open ", what, " '", path, "'"));
  std::string bytes;
  // A regular file is read in one allocation of its size; a pipe or a device to its end.
  const auto size = std::filesystem::file_size(path, error);
  if (!error) {
    bytes.resize(size);
    file.read(bytes.data(), static_cast<std::streamsize>(size));
  } else {
    bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  if (file.bad() || (!error && !file)) {
    return absl::DataLossError(absl::StrCat("cannot read ", what, " '", path, "'"));
  }
  return bytes;
}

}  // namespace runnel
