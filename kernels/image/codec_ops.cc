// DecodeJpeg (libjpeg-turbo), DecodePng and EncodePng (libpng). Both libraries report
// errors by longjmp; each setjmp lives in a small function whose locals are plain data, so
// no destructor is ever skipped, and a corrupt image becomes an error naming the reason.
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "core/kernel_registry.h"
#include "jerror.h"
#include "jpeglib.h"  // before jerror.h, which needs its types
#include "kernels/util/png_encode.h"
#include "png.h"

namespace runnel {
namespace {

// A decoded image may hold at most this many pixels (a 16384 x 16384 photograph): the
// headers of a few hostile bytes can declare 65535 x 65535 (a 17 GB tensor); such an image
// is an error before anything is allocated.
constexpr int64_t kMaxDecodedPixels = int64_t{1} << 28;

absl::Status CheckDecodedSize(const char* format, int64_t height, int64_t width) {
  RN_REQUIRE(height * width <= kMaxDecodedPixels, "Invalid ", format, " data: the image is ",
             height, " x ", width, " pixels, more than the ", kMaxDecodedPixels,
             " a decoded image may hold");
  return absl::OkStatus();
}

// --- JPEG -----------------------------------------------------------------------------

struct JpegReader {
  jpeg_decompress_struct cinfo;
  jpeg_error_mgr err;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool truncated;  // libjpeg met the end of the data early and padded the image
};

void OnJpegError(j_common_ptr cinfo) {
  auto* reader = reinterpret_cast<JpegReader*>(cinfo->client_data);
  (*cinfo->err->format_message)(cinfo, reader->message);
  std::longjmp(reader->jump, 1);
}

// Warnings are not errors, except data that ends early (TensorFlow's rule unless
// try_recover_truncated).
void OnJpegMessage(j_common_ptr cinfo, int level) {
  auto* reader = reinterpret_cast<JpegReader*>(cinfo->client_data);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) reader->truncated = true;
}

// Reads the header and sets the output asked for; cinfo's output_width/height are then
// the decoded size, before anything of that size is allocated.
bool ReadJpegHeader(JpegReader* r, const std::string* data, int channels, int ratio, bool fancy,
                    bool accurate) {
  if (setjmp(r->jump)) return false;
  jpeg_mem_src(&r->cinfo, reinterpret_cast<const unsigned char*>(data->data()),
               static_cast<unsigned long>(data->size()));
  jpeg_read_header(&r->cinfo, TRUE);
  if (r->cinfo.jpeg_color_space == JCS_CMYK || r->cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(r->message, sizeof(r->message), "CMYK JPEGs are not supported");
    return false;
  }
  if (channels == 0) channels = r->cinfo.num_components == 1 ? 1 : 3;
  r->cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
  r->cinfo.scale_num = 1;
  r->cinfo.scale_denom = ratio;
  r->cinfo.do_fancy_upsampling = fancy ? TRUE : FALSE;
  r->cinfo.dct_method = accurate ? JDCT_ISLOW : JDCT_IFAST;
  jpeg_calc_output_dimensions(&r->cinfo);
  return true;
}

// Starts decompressing: a progressive JPEG's scans are all read here, into coefficient
// buffers the size of the image.
bool StartJpeg(JpegReader* r) {
  if (setjmp(r->jump)) return false;
  jpeg_start_decompress(&r->cinfo);
  return true;
}

bool ReadJpegRows(JpegReader* r, uint8_t* out) {
  if (setjmp(r->jump)) return false;
  const size_t stride = static_cast<size_t>(r->cinfo.output_width) * r->cinfo.output_components;
  while (r->cinfo.output_scanline < r->cinfo.output_height) {
    JSAMPROW row = out + r->cinfo.output_scanline * stride;
    if (jpeg_read_scanlines(&r->cinfo, &row, 1) != 1) {
      std::snprintf(r->message, sizeof(r->message), "the image data ends early");
      return false;
    }
  }
  jpeg_finish_decompress(&r->cinfo);
  return true;
}

class DecodeJpegOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    std::string dct;
    RETURN_IF_ERROR(ctx->GetAttr("channels", &channels_));
    RETURN_IF_ERROR(ctx->GetAttr("ratio", &ratio_));
    RETURN_IF_ERROR(ctx->GetAttr("fancy_upscaling", &fancy_));
    RETURN_IF_ERROR(ctx->GetAttr("dct_method", &dct));
    RETURN_IF_ERROR(ctx->GetAttr("try_recover_truncated", &recover_truncated_));
    RN_REQUIRE(channels_ == 0 || channels_ == 1 || channels_ == 3,
               "DecodeJpeg: channels must be 0, 1 or 3, got ", channels_);
    RN_REQUIRE(ratio_ == 1 || ratio_ == 2 || ratio_ == 4 || ratio_ == 8,
               "DecodeJpeg: ratio must be 1, 2, 4 or 8, got ", ratio_);
    RN_REQUIRE(dct.empty() || dct == "INTEGER_FAST" || dct == "INTEGER_ACCURATE",
               "DecodeJpeg: dct_method must be '', 'INTEGER_FAST' or 'INTEGER_ACCURATE', got '",
               dct, "'");
    accurate_ = dct == "INTEGER_ACCURATE";
    return absl::OkStatus();
  }

  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& contents = ctx->input(0);
    RN_REQUIRE(contents.dims() == 0, "contents must be a scalar string, got shape ",
               contents.shape().DebugString());
    JpegReader r;
    std::memset(&r, 0, sizeof(r));
    r.cinfo.err = jpeg_std_error(&r.err);
    r.err.error_exit = OnJpegError;
    r.err.emit_message = OnJpegMessage;
    r.cinfo.client_data = &r;
    jpeg_create_decompress(&r.cinfo);
    absl::Status status = Decode(ctx, contents.data<std::string>(), &r);
    jpeg_destroy_decompress(&r.cinfo);
    return status;
  }

 private:
  absl::Status Decode(OpKernelContext* ctx, const std::string* data, JpegReader* r) const {
    if (!ReadJpegHeader(r, data, static_cast<int>(channels_), static_cast<int>(ratio_), fancy_,
                        accurate_)) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid JPEG data: ", r->message));
    }
    RETURN_IF_ERROR(CheckDecodedSize("JPEG", r->cinfo.output_height, r->cinfo.output_width));
    if (!StartJpeg(r)) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid JPEG data: ", r->message));
    }
    Tensor* out;
    const TensorShape shape{static_cast<int64_t>(r->cinfo.output_height),
                            static_cast<int64_t>(r->cinfo.output_width),
                            static_cast<int64_t>(r->cinfo.output_components)};
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    if (!ReadJpegRows(r, out->data<uint8_t>())) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid JPEG data: ", r->message));
    }
    if (r->truncated && !recover_truncated_) {
      return absl::InvalidArgumentError(
          "Invalid JPEG data: the data ends early (truncated file; try_recover_truncated "
          "decodes what is there)");
    }
    return absl::OkStatus();
  }

  int64_t channels_ = 0, ratio_ = 1;
  bool fancy_ = true, accurate_ = false, recover_truncated_ = false;
};

// --- PNG ------------------------------------------------------------------------------

struct PngIo {
  png_structp png = nullptr;
  png_infop info = nullptr;
  const std::string* input = nullptr;  // decoding
  size_t pos = 0;
  char message[256] = {};
};

void OnPngError(png_structp png, png_const_charp message) {
  auto* io = static_cast<PngIo*>(png_get_error_ptr(png));
  std::snprintf(io->message, sizeof(io->message), "%s", message);
  png_longjmp(png, 1);
}

void IgnorePngWarning(png_structp, png_const_charp) {}

void ReadPngBytes(png_structp png, png_bytep out, png_size_t length) {
  auto* io = static_cast<PngIo*>(png_get_io_ptr(png));
  if (io->input->size() - io->pos < length) png_error(png, "the image data ends early");
  std::memcpy(out, io->input->data() + io->pos, length);
  io->pos += length;
}

struct PngLayout {
  png_uint_32 width = 0, height = 0;
  int channels = 0, passes = 1;
  bool sixteen = false;  // 16-bit samples delivered
};

// Reads the header and sets the transforms that deliver `channels` (0: as stored) samples
// of 8 bits, or 16 when the file has them and `want16`. libpng errors longjmp out of it.
bool ConfigurePng(PngIo* io, int channels, bool want16, PngLayout* layout) {
  png_set_read_fn(io->png, io, ReadPngBytes);
  png_read_info(io->png, io->info);
  const int color = png_get_color_type(io->png, io->info);
  const int depth = png_get_bit_depth(io->png, io->info);
  const bool has_trns = png_get_valid(io->png, io->info, PNG_INFO_tRNS) != 0;
  if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(io->png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(io->png);
  if (has_trns) png_set_tRNS_to_alpha(io->png);
  layout->sixteen = depth == 16 && want16;
  if (depth == 16 && !want16) png_set_strip_16(io->png);
  if (layout->sixteen) png_set_swap(io->png);  // the file is big-endian; this machine is not
  const bool stored_color = (color & PNG_COLOR_MASK_COLOR) != 0;
  const bool stored_alpha = (color & PNG_COLOR_MASK_ALPHA) != 0 || has_trns;
  if (channels == 0) channels = (stored_color ? 3 : 1) + (stored_alpha ? 1 : 0);
  const bool want_color = channels >= 3, want_alpha = channels == 2 || channels == 4;
  if (stored_color && !want_color) png_set_rgb_to_gray_fixed(io->png, 1, -1, -1);
  if (!stored_color && want_color) png_set_gray_to_rgb(io->png);
  if (stored_alpha && !want_alpha) png_set_strip_alpha(io->png);
  if (!stored_alpha && want_alpha) png_set_add_alpha(io->png, 0xffff, PNG_FILLER_AFTER);
  layout->passes = png_set_interlace_handling(io->png);
  png_read_update_info(io->png, io->info);
  layout->width = png_get_image_width(io->png, io->info);
  layout->height = png_get_image_height(io->png, io->info);
  layout->channels = png_get_channels(io->png, io->info);
  if (layout->channels != channels) {
    std::snprintf(io->message, sizeof(io->message), "cannot deliver %d channels from this PNG",
                  channels);
    return false;
  }
  return true;
}

bool StartPng(PngIo* io, int channels, bool want16, PngLayout* layout) {
  if (setjmp(png_jmpbuf(io->png))) return false;
  return ConfigurePng(io, channels, want16, layout);
}

bool ReadPngRows(PngIo* io, const PngLayout& layout, uint8_t* out) {
  if (setjmp(png_jmpbuf(io->png))) return false;
  const size_t stride =
      static_cast<size_t>(layout.width) * layout.channels * (layout.sixteen ? 2 : 1);
  for (int pass = 0; pass < layout.passes; ++pass) {
    for (png_uint_32 y = 0; y < layout.height; ++y) {
      png_read_row(io->png, out + y * stride, nullptr);
    }
  }
  png_read_end(io->png, nullptr);
  return true;
}

class DecodePngOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("channels", &channels_));
    RETURN_IF_ERROR(ctx->GetAttr("dtype", &dtype_));
    RN_REQUIRE(channels_ >= 0 && channels_ <= 4, "DecodePng: channels must be 0-4, got ",
               channels_);
    return absl::OkStatus();
  }

  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& contents = ctx->input(0);
    RN_REQUIRE(contents.dims() == 0, "contents must be a scalar string, got shape ",
               contents.shape().DebugString());
    PngIo io;
    io.input = contents.data<std::string>();
    io.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &io, OnPngError, IgnorePngWarning);
    if (io.png == nullptr) return absl::ResourceExhaustedError("libpng could not start");
    io.info = png_create_info_struct(io.png);
    absl::Status status = io.info == nullptr
                              ? absl::ResourceExhaustedError("libpng could not start")
                              : Decode(ctx, &io);
    png_destroy_read_struct(&io.png, &io.info, nullptr);
    return status;
  }

 private:
  absl::Status Decode(OpKernelContext* ctx, PngIo* io) const {
    const bool want16 = dtype_ == DT_UINT16;
    PngLayout layout;
    if (!StartPng(io, static_cast<int>(channels_), want16, &layout)) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid PNG data: ", io->message));
    }
    const TensorShape shape{static_cast<int64_t>(layout.height), static_cast<int64_t>(layout.width),
                            static_cast<int64_t>(layout.channels)};
    RETURN_IF_ERROR(CheckDecodedSize("PNG", shape.dim_size(0), shape.dim_size(1)));
    if (want16 && !layout.sixteen) {  // 8-bit samples scaled to 16 bits (x 257, as TF does)
      Tensor bytes(DT_UINT8, shape);
      if (!ReadPngRows(io, layout, bytes.data<uint8_t>())) {
        return absl::InvalidArgumentError(absl::StrCat("Invalid PNG data: ", io->message));
      }
      Tensor* out;
      RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
      for (int64_t i = 0; i < out->NumElements(); ++i) {
        out->data<uint16_t>()[i] = static_cast<uint16_t>(bytes.data<uint8_t>()[i] * 257);
      }
      return absl::OkStatus();
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    if (!ReadPngRows(io, layout, static_cast<uint8_t*>(out->raw_data()))) {
      return absl::InvalidArgumentError(absl::StrCat("Invalid PNG data: ", io->message));
    }
    return absl::OkStatus();
  }

  int64_t channels_ = 0;
  DataType dtype_ = DT_UINT8;
};

class EncodePngOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("compression", &compression_));
    RN_REQUIRE(compression_ >= -1 && compression_ <= 9,
               "EncodePng: compression must be -1 to 9, got ", compression_);
    return absl::OkStatus();
  }

  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& image = ctx->input(0);
    RN_REQUIRE(image.dims() == 3, "image must be [height, width, channels], got shape ",
               image.shape().DebugString());
    const int64_t height = image.dim_size(0), width = image.dim_size(1),
                  channels = image.dim_size(2);
    RN_REQUIRE(channels >= 1 && channels <= 4, "image must have 1 to 4 channels, got ", channels);
    RN_REQUIRE(height > 0 && width > 0 && height < (1 << 30) && width < (1 << 30), "image size ",
               height, "x", width, " cannot be a PNG");
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{}, &out));
    return EncodePng(static_cast<const uint8_t*>(image.raw_data()), static_cast<int>(height),
                     static_cast<int>(width), static_cast<int>(channels),
                     image.dtype() == DT_UINT16 ? 16 : 8, static_cast<int>(compression_),
                     out->data<std::string>());
  }

 private:
  int64_t compression_ = -1;
};

REGISTER_KERNEL(KernelDefBuilder("DecodeJpeg").Device(kCpu).AllowStrings(), DecodeJpegOp);
REGISTER_KERNEL(KernelDefBuilder("DecodePng").Device(kCpu).AllowStrings(), DecodePngOp);
REGISTER_KERNEL(KernelDefBuilder("EncodePng").Device(kCpu).AllowStrings(), EncodePngOp);

}  // namespace
}  // namespace runnel
