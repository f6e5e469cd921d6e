#include "kernels/util/png_encode.h"

#include <csetjmp>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "png.h"

namespace runnel {
namespace {

// libpng reports errors by longjmp: the setjmp lives in WriteRows, whose locals are plain
// data, so no destructor is skipped.
struct PngWriter {
  png_structp png = nullptr;
  png_infop info = nullptr;
  std::string* output = nullptr;
  char message[256] = {};
};

void OnError(png_structp png, png_const_charp message) {
  auto* writer = static_cast<PngWriter*>(png_get_error_ptr(png));
  std::snprintf(writer->message, sizeof(writer->message), "%s", message);
  png_longjmp(png, 1);
}

void IgnoreWarning(png_structp, png_const_charp) {}

void AppendBytes(png_structp png, png_bytep data, png_size_t length) {
  auto* writer = static_cast<PngWriter*>(png_get_io_ptr(png));
  writer->output->append(reinterpret_cast<const char*>(data), length);
}

void Flush(png_structp) {}

bool WriteRows(PngWriter* w, const uint8_t* pixels, int height, int width, int channels, int depth,
               int compression) {
  if (setjmp(png_jmpbuf(w->png))) return false;
  static constexpr int kColorTypes[] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                        PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_write_fn(w->png, w, AppendBytes, Flush);
  if (compression >= 0) png_set_compression_level(w->png, compression);
  png_set_IHDR(w->png, w->info, width, height, depth, kColorTypes[channels], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(w->png, w->info);
  if (depth == 16) png_set_swap(w->png);  // PNG is big-endian; this machine is not
  const size_t stride = static_cast<size_t>(width) * channels * (depth / 8);
  for (int y = 0; y < height; ++y) {
    png_write_row(w->png, const_cast<png_bytep>(pixels + y * stride));
  }
  png_write_end(w->png, nullptr);
  return true;
}

}  // namespace

absl::Status EncodePng(const uint8_t* pixels, int height, int width, int channels, int depth,
                       int compression, std::string* out) {
  if (channels < 1 || channels > 4 || (depth != 8 && depth != 16)) {
    return absl::InvalidArgumentError(
        absl::StrCat("a PNG has 1 to 4 channels of 8 or 16 bits, not ", channels, " of ", depth));
  }
  PngWriter writer;
  writer.output = out;
  writer.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &writer, OnError, IgnoreWarning);
  if (writer.png == nullptr) return absl::ResourceExhaustedError("libpng could not start");
  writer.info = png_create_info_struct(writer.png);
  const bool ok = writer.info != nullptr &&
                  WriteRows(&writer, pixels, height, width, channels, depth, compression);
  png_destroy_write_struct(&writer.png, &writer.info);
  if (!ok) return absl::InternalError(absl::StrCat("PNG encoding failed: ", writer.message));
  return absl::OkStatus();
}

}  // namespace runnel
