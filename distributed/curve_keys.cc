#include "distributed/curve_keys.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/file_util.h"
#include "core/status.h"

namespace runnel {
namespace {

constexpr size_t kZ85KeyLength = 40;

absl::StatusOr<std::string> ReadKey(const std::string& dir, const std::string& name) {
  const std::string path = absl::StrCat(dir, "/", name);
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(path, "CURVE key file"));
  std::string key(absl::StripAsciiWhitespace(text));
  if (key.size() != kZ85KeyLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("CURVE key file '", path, "' does not hold one Z85 key (40 characters)"));
  }
  return key;
}

}  // namespace

absl::Status WriteCurveKeys(const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    return absl::PermissionDeniedError(
        absl::StrCat("cannot create key directory '", dir, "': ", error.message()));
  }
  ASSIGN_OR_RETURN(auto server, Transport::NewCurveKeyPair());
  ASSIGN_OR_RETURN(auto client, Transport::NewCurveKeyPair());
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/server.key", server.first + "\n"));
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/server.key_secret", server.second + "\n", 0600));
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/client.key", client.first + "\n"));
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/client.key_secret", client.second + "\n", 0600));
  return WriteFileAtomically(dir + "/authorized_clients", client.first + "\n");
}

absl::Status LoadCurveKeys(const std::string& dir, TransportOptions* options) {
  if (dir.empty()) return absl::OkStatus();
  ASSIGN_OR_RETURN(options->server_public_key, ReadKey(dir, "server.key"));
  ASSIGN_OR_RETURN(options->client_public_key, ReadKey(dir, "client.key"));
  ASSIGN_OR_RETURN(options->client_secret_key, ReadKey(dir, "client.key_secret"));
  // Only a server needs the servers' secret and the accepted clients.
  if (std::filesystem::exists(dir + "/server.key_secret")) {
    ASSIGN_OR_RETURN(options->server_secret_key, ReadKey(dir, "server.key_secret"));
    ASSIGN_OR_RETURN(std::string listed,
                     ReadFileToString(dir + "/authorized_clients", "authorized client keys"));
    options->authorized_clients.clear();
    for (absl::string_view line : absl::StrSplit(listed, '\n', absl::SkipWhitespace())) {
      std::string key(absl::StripAsciiWhitespace(line));
      if (key.size() != kZ85KeyLength) {
        return absl::InvalidArgumentError(absl::StrCat(
            "'", dir, "/authorized_clients' has a line that is not a Z85 key: '", key, "'"));
      }
      options->authorized_clients.push_back(key);
    }
  }
  return absl::OkStatus();
}

}  // namespace runnel
