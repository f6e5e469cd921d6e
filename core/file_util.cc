#include "core/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
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

absl::Status WriteFileAtomically(const std::string& path, absl::string_view contents, int mode) {
  const std::string temporary = absl::StrCat(path, ".tmp", getpid());
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot write '", temporary, "': ", std::strerror(errno)));
  }
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = write(fd, contents.data() + written, contents.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    written += static_cast<size_t>(n);
  }
  const bool ok = written == contents.size() && fsync(fd) == 0;
  const int saved = errno;
  close(fd);
  if (!ok || std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    return absl::DataLossError(
        absl::StrCat("cannot write '", path, "': ", std::strerror(ok ? errno : saved)));
  }
  return absl::OkStatus();
}

}  // namespace runnel
