// Image ops with TensorFlow's names, attributes and rules: resizing (NHWC) with its
// gradients, and JPEG/PNG decoding and PNG encoding (libjpeg-turbo, libpng).
#include "absl/strings/str_cat.h"
#include "core/gradients.h"
#include "core/op_registry.h"
#include "ops/util/shape_util.h"

namespace runnel {
namespace {

// images [N, H, W, C] and size [new_height, new_width] -> [N, new_height, new_width, C].
absl::Status ResizeShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 4));
  RETURN_IF_ERROR(c->WithRank(1, 1));
  bool align_corners = false, half_pixel = false;
  RETURN_IF_ERROR(c->GetAttr("align_corners", &align_corners));
  RETURN_IF_ERROR(c->GetAttr("half_pixel_centers", &half_pixel));
  if (align_corners && half_pixel) {
    return c->InvalidArgument("align_corners and half_pixel_centers cannot both be true");
  }
  const PartialShape& in = c->input(0);
  PartialShape out = PartialShape::UnknownWithRank(4);
  if (!in.unknown_rank()) {
    out.set_dim(0, in.dim(0));
    out.set_dim(3, in.dim(3));
  }
  std::vector<int64_t> size;
  if (ConstantVector(*c, 1, &size)) {
    if (size.size() != 2 || size[0] <= 0 || size[1] <= 0) {
      return c->InvalidArgument("size must hold 2 positive values (height, width), got ",
                                size.size() == 2 ? absl::StrCat(size[0], ", ", size[1])
                                                 : absl::StrCat(size.size(), " values"));
    }
    out.set_dim(1, size[0]);
    out.set_dim(2, size[1]);
  }
  c->set_output(0, out);
  return absl::OkStatus();
}

std::map<std::string, AttrValue> ResizeAttrs(const GradientContext& g) {
  return g.CopyAttrs({"align_corners", "half_pixel_centers"});
}

std::function<void(OpDefBuilder&)> ResizeAttrDefs() {
  return [](OpDefBuilder& b) {
    b.Attr("align_corners: bool = false").Attr("half_pixel_centers: bool = false");
  };
}

// A decoded image: [height, width, channels], channels known when the attr gives them.
absl::Status DecodedImageShape(InferenceContext* c) {
  RETURN_IF_ERROR(c->WithRank(0, 0));
  int64_t channels = 0;
  RETURN_IF_ERROR(c->GetAttr("channels", &channels));
  if (channels < 0 || channels > 4) {
    return c->InvalidArgument("channels must be 0 (as stored), 1, 2, 3 or 4, got ", channels);
  }
  PartialShape out = PartialShape::UnknownWithRank(3);
  if (channels > 0) out.set_dim(2, channels);
  c->set_output(0, out);
  return absl::OkStatus();
}

}  // namespace

REGISTER_OP("DecodeJpeg")
    .Endpoints({"image.decode_jpeg", "io.decode_jpeg"})
    .SetNoGradient()
    .Input("contents: string")
    .Output("image: uint8")
    .Attr("channels: int = 0")
    .Attr("ratio: int = 1")
    .Attr("fancy_upscaling: bool = true")
    .Attr("try_recover_truncated: bool = false")
    .Attr("acceptable_fraction: float = 1.0")
    .Attr("dct_method: string = ''")
    .SetShapeFn(DecodedImageShape)
    .Doc("Decodes a JPEG image into [height, width, channels] uint8 (channels 0: as stored; "
         "1: grayscale; 3: RGB). `ratio` 1, 2, 4 or 8 downscales while decoding; dct_method "
         "'INTEGER_ACCURATE' or 'INTEGER_FAST' (the default).");

REGISTER_OP("DecodePng")
    .Endpoints({"image.decode_png", "io.decode_png"})
    .SetNoGradient()
    .Input("contents: string")
    .Output("image: dtype")
    .Attr("channels: int = 0")
    .Attr("dtype: {uint8, uint16} = DT_UINT8")
    .SetShapeFn(DecodedImageShape)
    .Doc("Decodes a PNG image into [height, width, channels] (channels 0: as stored; 1: gray; "
         "2: gray + alpha; 3: RGB; 4: RGBA), 8 or 16 bits a sample.");

REGISTER_OP("EncodePng")
    .Endpoints({"image.encode_png", "io.encode_png"})
    .SetNoGradient()
    .Input("image: T")
    .Output("contents: string")
    .Attr("compression: int = -1")
    .Attr("T: {uint8, uint16} = DT_UINT8")
    .SetShapeFn([](InferenceContext* c) {
      RETURN_IF_ERROR(c->WithRank(0, 3));
      return shape_fn::Scalar(c);
    })
    .Doc("Encodes [height, width, channels] (1 to 4 channels) as a PNG; compression -1 "
         "(zlib's default) or 0-9.");

REGISTER_OP("ResizeBilinear")
    .SetGradient([](GradientContext* g) {
      g->SetInputGrad(0, g->Op("ResizeBilinearGrad", {g->grad(0), g->input(0)}, ResizeAttrs(*g)));
      return absl::OkStatus();
    })
    .Input("images: T")
    .Input("size: int32")
    .Output("resized_images: float")
    .Attr("T: {uint8, int32, int64, float, double}")
    .Apply(ResizeAttrDefs())
    .SetShapeFn(ResizeShape)
    .Doc(
        "Resizes images [N,H,W,C] to size (height, width) by bilinear interpolation; the "
        "result is float.");

REGISTER_OP("ResizeNearestNeighbor")
    .SetGradient([](GradientContext* g) {
      Output size = g->Op("Slice", {g->Shape(g->input(0)), g->IntVector({1}), g->IntVector({2})});
      g->SetInputGrad(0, g->Op("ResizeNearestNeighborGrad", {g->grad(0), size}, ResizeAttrs(*g)));
      return absl::OkStatus();
    })
    .Input("images: T")
    .Input("size: int32")
    .Output("resized_images: T")
    .Attr("T: {uint8, int32, int64, float, double}")
    .Apply(ResizeAttrDefs())
    .SetShapeFn(ResizeShape)
    .Doc("Resizes images [N,H,W,C] to size (height, width), each pixel from its nearest source.");

REGISTER_OP("ResizeBilinearGrad")
    .Input("grads: float")
    .Input("original_image: T")
    .Output("output: T")
    .Attr("T: {float, double}")
    .Apply(ResizeAttrDefs())
    .SetShapeFn([](InferenceContext* c) {
      RETURN_IF_ERROR(c->WithRank(0, 4));
      RETURN_IF_ERROR(c->WithRank(1, 4));
      c->set_output(0, c->input(1));
      return absl::OkStatus();
    })
    .Doc("The gradient of ResizeBilinear: each output's gradient spread over its 4 sources.");

REGISTER_OP("ResizeNearestNeighborGrad")
    .Input("grads: T")
    .Input("size: int32")
    .Output("output: T")
    .Attr("T: {int32, float, double}")
    .Apply(ResizeAttrDefs())
    .SetShapeFn(ResizeShape)
    .Doc("The gradient of ResizeNearestNeighbor: gradients summed onto their source pixels.");

}  // namespace runnel
