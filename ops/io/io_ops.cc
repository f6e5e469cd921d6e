// Input ops: reading files, and reinterpreting bytes as numbers.
#include "core/op_registry.h"

namespace runnel {
namespace {

// bytes [...] -> [..., n]: n elements per string, known only when the graph runs.
absl::Status DecodeRawShape(InferenceContext* c) {
  const PartialShape& in = c->input(0);
  if (in.unknown_rank()) return absl::OkStatus();
  PartialShape out = in;
  out.AddDim(PartialShape::kUnknownDim);
  c->set_output(0, out);
  return absl::OkStatus();
}

}  // namespace

// Stateful: a file may change between runs, so its contents are never folded into a graph.
REGISTER_OP("ReadFile")
    .Endpoints({"io.read_file", "read_file"})
    .SetIsStateful()
    .Input("filename: string")
    .Output("contents: string")
    .SetShapeFn([](InferenceContext* c) {
      RETURN_IF_ERROR(c->WithRank(0, 0));
      return shape_fn::Scalar(c);
    })
    .Doc("The contents of the file `filename`.");

REGISTER_OP("DecodeRaw")
    .SetNoGradient()
    .Input("bytes: string")
    .Output("output: out_type")
    .Attr("out_type: {float, double, int32, uint16, uint8, int16, int8, int64, bool}")
    .Attr("little_endian: bool = true")
    .SetShapeFn(DecodeRawShape)
    .Doc("Each string's bytes as a vector of out_type; all strings must be the same length.");

}  // namespace runnel
