#include "core/graph_io.h"

#include <limits>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/file_util.h"
#include "core/status.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/text_format.h"
#include "google/protobuf/wire_format_lite.h"

namespace runnel {
namespace {

// What a graph from outside may hold (more is an error before the graph is built): nodes
// enough for the largest real models many times over, and messages nested no deeper than
// protobuf's own binary limit (attrs hold functions that hold attrs: each level is a
// recursion when the graph is read, printed or instantiated).
constexpr int kMaxGraphNodes = 1 << 22;
constexpr int kMaxNesting = 100;

absl::Status TooManyNodes(int64_t nodes, absl::string_view source) {
  return absl::ResourceExhaustedError(absl::StrCat("the GraphDef from ", source, " has ", nodes,
                                                   " nodes; a graph may have at most ",
                                                   kMaxGraphNodes));
}

absl::StatusOr<GraphDef> CheckLimits(GraphDef graph, absl::string_view source) {
  if (graph.node_size() > kMaxGraphNodes) return TooManyNodes(graph.node_size(), source);
  return graph;
}

// The nodes (field 1) of a binary GraphDef, counted before it is parsed: parsing a
// hostile file of empty nodes would hold tens of bytes of memory per byte read. -1 when
// the bytes are not a well-formed message at the top level.
int64_t CountNodes(absl::string_view bytes) {
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                                            static_cast<int>(bytes.size()));
  int64_t nodes = 0;
  while (const uint32_t tag = in.ReadTag()) {
    if (tag == google::protobuf::internal::WireFormatLite::MakeTag(
                   GraphDef::kNodeFieldNumber,
                   google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) {
      ++nodes;
    }
    if (!google::protobuf::internal::WireFormatLite::SkipField(&in, tag)) return -1;
  }
  return nodes;
}

bool ParseText(const std::string& text, GraphDef* graph) {
  google::protobuf::TextFormat::Parser parser;
  parser.SetRecursionLimit(kMaxNesting);  // the text parser's default has no limit
  return parser.ParseFromString(text, graph);
}

}  // namespace

absl::StatusOr<GraphDef> ParseGraphDef(absl::string_view bytes, absl::string_view source) {
  const bool fits = bytes.size() <= static_cast<size_t>(std::numeric_limits<int>::max());
  const int64_t nodes = fits ? CountNodes(bytes) : -1;
  if (nodes > kMaxGraphNodes) return TooManyNodes(nodes, source);
  GraphDef graph;
  if (!fits || !graph.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "could not parse GraphDef from ", source, " (", bytes.size(),
        " bytes): not a valid binary GraphDef, truncated, or nested deeper than ", kMaxNesting));
  }
  return graph;  // CountNodes saw every node: no CheckLimits needed
}

absl::StatusOr<GraphDef> ParseGraphDefAnyFormat(absl::string_view bytes, absl::string_view source) {
  auto binary = ParseGraphDef(bytes, source);
  if (binary.ok() || absl::IsResourceExhausted(binary.status())) return binary;
  GraphDef graph;
  if (!ParseText(std::string(bytes), &graph)) {
    return absl::InvalidArgumentError(absl::StrCat("could not parse a GraphDef from ", source,
                                                   " in binary or text format (nested at most ",
                                                   kMaxNesting, " deep)"));
  }
  return CheckLimits(std::move(graph), source);
}

absl::StatusOr<GraphDef> ReadGraphDef(const std::string& path) {
  ASSIGN_OR_RETURN(const std::string bytes, ReadFileToString(path, "graph file"));
  const bool text = absl::EndsWith(path, ".pbtxt") || absl::EndsWith(path, ".txt");
  if (!text) {
    auto binary = ParseGraphDef(bytes, path);
    if (binary.ok() || absl::EndsWith(path, ".pb")) return binary;
  }
  GraphDef graph;
  if (!ParseText(bytes, &graph)) {
    return absl::InvalidArgumentError(absl::StrCat("could not parse GraphDef from '", path, "' as ",
                                                   text ? "text format" : "binary or text format"));
  }
  return CheckLimits(std::move(graph), path);
}

}  // namespace runnel
