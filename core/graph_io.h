// Reading GraphDefs from bytes or files, binary or text format, with errors that say
// what is wrong with the input instead of crashing on it.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/proto/graph.pb.h"

namespace runnel {

// Parses a binary GraphDef; `source` names it in errors (a path, or "<bytes>").
absl::StatusOr<GraphDef> ParseGraphDef(absl::string_view bytes,
                                       absl::string_view source = "<bytes>");
// Parses a GraphDef in binary format, or else in text format.
absl::StatusOr<GraphDef> ParseGraphDefAnyFormat(absl::string_view bytes,
                                                absl::string_view source = "<bytes>");
// Reads a GraphDef file: binary (.pb) or text (.pbtxt, or any file that is not binary).
absl::StatusOr<GraphDef> ReadGraphDef(const std::string& path);

}  // namespace runnel
