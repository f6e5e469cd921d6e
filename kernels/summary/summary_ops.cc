// ScalarSummary, HistogramSummary, ImageSummary and MergeSummary: serialized Summary protos
// (core/proto/summary.proto) for TensorBoard. Values are read as doubles whatever their
// dtype; the histogram's buckets are TensorFlow's, so TensorBoard draws the same picture.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "core/kernel_registry.h"
#include "core/proto/summary.pb.h"
#include "kernels/util/png_encode.h"

namespace runnel {
namespace {

// `t`'s elements as doubles.
std::vector<double> Values(const Tensor& t) {
  std::vector<double> values(t.NumElements());
  VisitDataType(t.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T* data = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) values[i] = static_cast<double>(data[i]);
  });
  return values;
}

absl::Status OutputSummary(OpKernelContext* ctx, const Summary& summary) {
  Tensor* out;
  RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{}, &out));
  if (!summary.SerializeToString(out->data<std::string>())) {
    return absl::InternalError("the Summary could not be serialized");
  }
  return absl::OkStatus();
}

class ScalarSummaryOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& tags = ctx->input(0);
    const Tensor& values = ctx->input(1);
    RN_REQUIRE(tags.shape() == values.shape(), "tags and values must have the same shape, got ",
               tags.shape().DebugString(), " and ", values.shape().DebugString());
    const std::vector<double> numbers = Values(values);
    Summary summary;
    for (int64_t i = 0; i < tags.NumElements(); ++i) {
      Summary::Value* value = summary.add_value();
      value->set_tag(tags.data<std::string>()[i]);
      value->set_simple_value(static_cast<float>(numbers[i]));
    }
    return OutputSummary(ctx, summary);
  }
};

// TensorFlow's default bucket limits: -DBL_MAX, -1e20 .. -1e-12 shrinking by 1.1, 0,
// 1e-12 .. 1e20 growing by 1.1, DBL_MAX. Bucket i holds [limit[i-1], limit[i]).
const std::vector<double>& DefaultBucketLimits() {
  static const std::vector<double>* limits = [] {
    std::vector<double> positive;
    for (double v = 1e-12; v < 1e20; v *= 1.1) positive.push_back(v);
    positive.push_back(DBL_MAX);
    auto* all = new std::vector<double>;
    for (auto it = positive.rbegin(); it != positive.rend(); ++it) all->push_back(-*it);
    all->push_back(0.0);
    all->insert(all->end(), positive.begin(), positive.end());
    return all;
  }();
  return *limits;
}

// The histogram of `values` with TensorFlow's buckets; runs of empty buckets are written
// as one bucket ending where the run ends, as TensorFlow writes them.
HistogramProto Histogram(const std::vector<double>& values) {
  const std::vector<double>& limits = DefaultBucketLimits();
  std::vector<double> counts(limits.size(), 0.0);
  HistogramProto histo;
  double min = DBL_MAX, max = -DBL_MAX, sum = 0, sum_squares = 0;
  for (double v : values) {
    const size_t bucket = std::upper_bound(limits.begin(), limits.end(), v) - limits.begin();
    counts[std::min(bucket, limits.size() - 1)] += 1;
    min = std::min(min, v);
    max = std::max(max, v);
    sum += v;
    sum_squares += v * v;
  }
  histo.set_min(min);
  histo.set_max(max);
  histo.set_num(static_cast<double>(values.size()));
  histo.set_sum(sum);
  histo.set_sum_squares(sum_squares);
  for (size_t i = 0; i < limits.size();) {
    double limit = limits[i], count = counts[i];
    ++i;
    if (count == 0) {
      while (i < limits.size() && counts[i] == 0) limit = limits[i++];
    }
    histo.add_bucket_limit(limit);
    histo.add_bucket(count);
  }
  return histo;
}

class HistogramSummaryOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& tag = ctx->input(0);
    RN_REQUIRE(tag.dims() == 0, "tag must be a scalar, got shape ", tag.shape().DebugString());
    const std::vector<double> values = Values(ctx->input(1));
    for (size_t i = 0; i < values.size(); ++i) {
      RN_REQUIRE(std::isfinite(values[i]), "value ", i, " of the histogram '",
                 *tag.data<std::string>(), "' is ", values[i], "; a histogram needs finite values");
    }
    Summary summary;
    Summary::Value* value = summary.add_value();
    value->set_tag(*tag.data<std::string>());
    *value->mutable_histo() = Histogram(values);
    return OutputSummary(ctx, summary);
  }
};

class ImageSummaryOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("max_images", &max_images_));
    const TensorProto* bad_color;
    RETURN_IF_ERROR(ctx->GetAttr("bad_color", &bad_color));
    ASSIGN_OR_RETURN(Tensor color, Tensor::FromProto(*bad_color));
    RN_REQUIRE(color.dtype() == DT_UINT8 && color.dims() == 1,
               "bad_color must be a uint8 vector, got ", DataTypeString(color.dtype()), " ",
               color.shape().DebugString());
    bad_color_.assign(color.data<uint8_t>(), color.data<uint8_t>() + color.NumElements());
    return absl::OkStatus();
  }

  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& tag = ctx->input(0);
    const Tensor& images = ctx->input(1);
    RN_REQUIRE(tag.dims() == 0, "tag must be a scalar, got shape ", tag.shape().DebugString());
    RN_REQUIRE(
        images.dtype() == DT_UINT8 || images.dtype() == DT_FLOAT || images.dtype() == DT_DOUBLE,
        "images must be uint8, float or double, got ", DataTypeString(images.dtype()));
    RN_REQUIRE(images.dims() == 4, "tensor must be [batch, height, width, channels], got shape ",
               images.shape().DebugString());
    const int64_t height = images.dim_size(1), width = images.dim_size(2),
                  channels = images.dim_size(3);
    RN_REQUIRE(channels == 1 || channels == 3 || channels == 4,
               "images must have 1, 3 or 4 channels, got ", channels);
    RN_REQUIRE(height > 0 && width > 0 && height < (1 << 30) && width < (1 << 30), "image size ",
               height, "x", width, " cannot be a PNG");
    RN_REQUIRE(static_cast<int64_t>(bad_color_.size()) >= channels, "bad_color has ",
               bad_color_.size(), " values, the images ", channels, " channels");
    const int64_t count = std::min(images.dim_size(0), max_images_);
    const int64_t samples = height * width * channels;
    const std::string& base = *tag.data<std::string>();
    Summary summary;
    std::vector<uint8_t> bytes(samples);
    for (int64_t n = 0; n < count; ++n) {
      const int64_t start = n * samples;
      if (images.dtype() == DT_UINT8) {
        std::copy_n(images.data<uint8_t>() + start, samples, bytes.begin());
      } else if (images.dtype() == DT_FLOAT) {
        ToBytes(images.data<float>() + start, height * width, channels, bytes.data());
      } else {
        ToBytes(images.data<double>() + start, height * width, channels, bytes.data());
      }
      Summary::Value* value = summary.add_value();
      value->set_tag(max_images_ == 1 ? absl::StrCat(base, "/image")
                                      : absl::StrCat(base, "/image/", n));
      Summary::Image* image = value->mutable_image();
      image->set_height(static_cast<int>(height));
      image->set_width(static_cast<int>(width));
      image->set_colorspace(static_cast<int>(channels));
      RETURN_IF_ERROR(EncodePng(bytes.data(), static_cast<int>(height), static_cast<int>(width),
                                static_cast<int>(channels), 8, -1,
                                image->mutable_encoded_image_string()));
    }
    return OutputSummary(ctx, summary);
  }

 private:
  template <typename T>
  static bool Finite(const T* pixel, int64_t channels) {
    return std::all_of(pixel, pixel + channels, [](T v) { return std::isfinite(v); });
  }

  // One image scaled into bytes as the op's doc says, in T's arithmetic as TensorFlow
  // does (the range in float); a pixel with a sample that is not finite gets bad_color_.
  template <typename T>
  void ToBytes(const T* samples, int64_t pixels, int64_t channels, uint8_t* out) const {
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t p = 0; p < pixels; ++p) {
      const T* pixel = samples + p * channels;
      if (!Finite(pixel, channels)) continue;
      for (int64_t c = 0; c < channels; ++c) {
        lo = std::min(lo, static_cast<float>(pixel[c]));
        hi = std::max(hi, static_cast<float>(pixel[c]));
      }
    }
    constexpr float kZero = 1e-6f;
    T scale, offset;
    if (lo < 0) {
      const float largest = std::max(std::abs(lo), std::abs(hi));
      scale = T(largest < kZero ? 0.0f : 127.0f / largest);
      offset = T(128.0f);
    } else {
      scale = T(hi < kZero ? 0.0f : 255.0f / hi);
      offset = T(0.0f);
    }
    for (int64_t p = 0; p < pixels; ++p) {
      const T* pixel = samples + p * channels;
      const bool finite = Finite(pixel, channels);
      for (int64_t c = 0; c < channels; ++c) {
        out[p * channels + c] =
            finite ? static_cast<uint8_t>(std::clamp<T>(pixel[c] * scale + offset, 0, 255))
                   : bad_color_[c];
      }
    }
  }

  int64_t max_images_ = 3;
  std::vector<uint8_t> bad_color_;
};

class MergeSummaryOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    Summary merged;
    absl::flat_hash_set<std::string> tags;
    for (int i = 0; i < ctx->num_inputs(); ++i) {
      const Tensor& input = ctx->input(i);
      for (int64_t j = 0; j < input.NumElements(); ++j) {
        Summary summary;
        RN_REQUIRE(summary.ParseFromString(input.data<std::string>()[j]), "input ", i,
                   " is not a serialized Summary");
        for (Summary::Value& value : *summary.mutable_value()) {
          RN_REQUIRE(tags.insert(value.tag()).second, "the tag '", value.tag(),
                     "' is in more than one input; each must be unique");
          *merged.add_value() = std::move(value);
        }
      }
    }
    return OutputSummary(ctx, merged);
  }
};

REGISTER_KERNEL(KernelDefBuilder("ScalarSummary").Device(kCpu).AllowStrings(), ScalarSummaryOp);
REGISTER_KERNEL(KernelDefBuilder("HistogramSummary").Device(kCpu).AllowStrings(),
                HistogramSummaryOp);
REGISTER_KERNEL(KernelDefBuilder("ImageSummary").Device(kCpu).AllowStrings(), ImageSummaryOp);
REGISTER_KERNEL(KernelDefBuilder("MergeSummary").Device(kCpu).AllowStrings(), MergeSummaryOp);

}  // namespace
}  // namespace runnel
