// Reading whole files: contents byte for byte, and errors that name the file.
#include "core/file_util.h"

#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace runnel {
namespace {

TEST(ReadFileToString, ReturnsEveryByte) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "runnel_file_util_bytes.bin").string();
  std::string written(70000, '\0');
  for (size_t i = 0; i < written.size(); ++i) written[i] = static_cast<char>(i * 7);
  std::ofstream(path, std::ios::binary) << written;
  auto read = ReadFileToString(path);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(*read, written);
  std::filesystem::remove(path);
}

TEST(ReadFileToString, MissingFilesAndDirectoriesAreNamedErrors) {
  const std::string dir = std::filesystem::temp_directory_path().string();
  EXPECT_STATUS(ReadFileToString(dir + "/runnel_no_such_file", "model file").status(),
                absl::StatusCode::kNotFound, "cannot open model file '", "runnel_no_such_file'");
  EXPECT_STATUS(ReadFileToString(dir, "graph file").status(), absl::StatusCode::kInvalidArgument,
                "graph file '", "' is a directory");
}

}  // namespace
}  // namespace runnel
