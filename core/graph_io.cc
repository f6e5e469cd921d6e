#include "core/graph_io.h"

#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "core/status.h"
#include "google/protobuf/text_format.h"

namespace runnel {

absl::StatusOr<GraphDef> ParseGraphDef(absl::string_view bytes, absl::string_view source) {
  GraphDef graph;
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()) ||
      !graph.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat("could not parse GraphDef from ", source, " (", bytes.size(),
                     " bytes): not a valid binary GraphDef, or truncated"));
  }
  return graph;
}

absl::StatusOr<GraphDef> ParseGraphDefAnyFormat(absl::string_view bytes,
                                                absl::string_view source) {
  auto binary = ParseGraphDef(bytes, source);
  if (binary.ok()) return binary;
  GraphDef graph;
  if (!google::protobuf::TextFormat::ParseFromString(std::string(bytes), &graph)) {
    return absl::InvalidArgumentError(
        absl::StrCat("could not parse a GraphDef from ", source, " in binary or text format"));
  }
  return graph;
}

absl::StatusOr<GraphDef> ReadGraphDef(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path, "graph file"));
  const bool text = absl::EndsWith(path, ".pbtxt") || absl::EndsWith(path, ".txt");
  if (!text) {
    auto binary = ParseGraphDef(bytes, path);
    if (binary.ok() || absl::EndsWith(path, ".pb")) return binary;
  }
  GraphDef graph;
  if (!google::protobuf::TextFormat::ParseFromString(bytes, &graph)) {
    return absl::InvalidArgumentError(absl::StrCat("could not parse GraphDef from '", path, "' as ",
                                                   text ? "text format" : "binary or text format"));
  }
  return graph;
}

}  // namespace runnel
