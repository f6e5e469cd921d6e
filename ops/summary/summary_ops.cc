// Summary ops: each emits a serialized Summary (core/proto/summary.proto) that
// tf.summary.FileWriter writes into TensorBoard's event files. TensorFlow's names, inputs
// and attrs, so graphs that carry summaries import; none has a gradient.
#include "absl/strings/str_cat.h"
#include "core/op_registry.h"
#include "core/types.h"

namespace runnel {

REGISTER_OP("ScalarSummary")
    .SetNoGradient()
    .Input("tags: string")
    .Input("values: T")
    .Output("summary: string")
    .Attr(absl::StrCat("T: ", kRealTypes))
    .SetShapeFn(shape_fn::Scalar)
    .Doc("A Summary of one scalar per tag; `tags` and `values` have the same shape.");

REGISTER_OP("HistogramSummary")
    .SetNoGradient()
    .Input("tag: string")
    .Input("values: T")
    .Output("summary: string")
    .Attr(absl::StrCat("T: ", kRealTypes, " = DT_FLOAT"))
    .SetShapeFn([](InferenceContext* c) {
      RETURN_IF_ERROR(c->WithRank(0, 0));
      return shape_fn::Scalar(c);
    })
    .Doc(
        "A Summary of the histogram of `values` (TensorFlow's buckets: 0 and +-1e-12 growing "
        "by 10% to +-1e20); a value that is not finite is an error.");

REGISTER_OP("ImageSummary")
    .SetNoGradient()
    .Input("tag: string")
    .Input("tensor: T")
    .Output("summary: string")
    .Attr("max_images: int >= 1 = 3")
    .Attr("T: {uint8, float, double} = DT_FLOAT")
    .Attr(
        "bad_color: tensor = { dtype: DT_UINT8 tensor_shape { dim { size: 4 } } "
        "int_val: 255 int_val: 0 int_val: 0 int_val: 255 }")
    .SetShapeFn([](InferenceContext* c) {
      RETURN_IF_ERROR(c->WithRank(0, 0));
      RETURN_IF_ERROR(c->WithRank(1, 4));
      return shape_fn::Scalar(c);
    })
    .Doc(
        "A Summary of the first `max_images` of `tensor` [batch, height, width, channels] "
        "(1, 3 or 4 channels) as PNGs tagged 'tag/image/i' ('tag/image' for one). Floats are "
        "scaled per image into 0-255: by 255 / max when none is negative, else by 127 / "
        "max |v| around 128; pixels that are not finite get `bad_color`.");

REGISTER_OP("MergeSummary")
    .SetNoGradient()
    .Input("inputs: N * string")
    .Output("summary: string")
    .Attr("N: int >= 1")
    .SetShapeFn(shape_fn::Scalar)
    .Doc("The union of the values of N serialized Summaries; a tag twice is an error.");

}  // namespace runnel
