// Random kernels. The generator lives in the kernel, which the session keeps for its
// lifetime (stateful ops are created once per session), so each run continues the stream.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <random>
#include <type_traits>

#include "core/kernel_registry.h"
#include "kernels/util/int_values.h"

namespace runnel {
namespace {

class RandomOpBase : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    int64_t seed, seed2;
    RETURN_IF_ERROR(ctx->GetAttr("seed", &seed));
    RETURN_IF_ERROR(ctx->GetAttr("seed2", &seed2));
    if (seed == 0 && seed2 == 0) {
      std::random_device device;
      engine_.seed((uint64_t{device()} << 32) ^ device());
    } else {
      std::seed_seq sequence{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                             static_cast<uint32_t>(seed2), static_cast<uint32_t>(seed2 >> 32)};
      engine_.seed(sequence);
    }
    return absl::OkStatus();
  }

 protected:
  absl::StatusOr<Tensor*> AllocateFromShapeInput(OpKernelContext* ctx) {
    RN_REQUIRE(ctx->input(0).dims() == 1, "shape must be a vector, got shape ",
               ctx->input(0).shape().DebugString());
    ASSIGN_OR_RETURN(std::vector<int64_t> dims, IntValues(ctx->input(0), "shape"));
    ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromDims(dims));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    return out;
  }

  std::mutex mu_;  // runs of one session may draw concurrently
  std::mt19937_64 engine_;
};

enum class Distribution { kUniform, kNormal, kTruncatedNormal };

template <typename T, Distribution kDist>
class RandomOp : public RandomOpBase {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Tensor * out, AllocateFromShapeInput(ctx));
    std::lock_guard<std::mutex> lock(mu_);
    if constexpr (kDist == Distribution::kUniform && std::is_same_v<T, float>) {
      // 24 random bits are a float in [0, 1) exactly, so one 64-bit draw gives two: five
      // times faster than a double per value (dropout masks draw one per activation).
      constexpr float kScale = 1.0f / (1 << 24);
      float* v = out->data<float>();
      const int64_t n = out->NumElements();
      for (int64_t i = 0; i + 1 < n; i += 2) {
        const uint64_t bits = engine_();
        v[i] = static_cast<float>(bits >> 40) * kScale;
        v[i + 1] = static_cast<float>((bits >> 8) & 0xFFFFFF) * kScale;
      }
      if (n % 2) v[n - 1] = static_cast<float>(engine_() >> 40) * kScale;
      return absl::OkStatus();
    }
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 1.0);
    for (T& v : out->flat<T>()) {
      double x;
      if constexpr (kDist == Distribution::kUniform) {
        do {
          x = uniform(engine_);
        } while (static_cast<T>(x) >= T(1));  // keep [0, 1) after rounding to T
      } else {
        do {
          x = normal(engine_);
        } while (kDist == Distribution::kTruncatedNormal && std::abs(x) > 2.0);
      }
      v = static_cast<T>(x);
    }
    return absl::OkStatus();
  }
};

template <typename T>
using RandomUniformOp = RandomOp<T, Distribution::kUniform>;
template <typename T>
using RandomNormalOp = RandomOp<T, Distribution::kNormal>;
template <typename T>
using TruncatedNormalOp = RandomOp<T, Distribution::kTruncatedNormal>;

template <typename T>
class RandomUniformIntOp : public RandomOpBase {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(int64_t low, IntScalar(ctx->input(1), "minval"));
    ASSIGN_OR_RETURN(int64_t high, IntScalar(ctx->input(2), "maxval"));
    RN_REQUIRE(low < high, "need minval < maxval, got ", low, " >= ", high);
    ASSIGN_OR_RETURN(Tensor * out, AllocateFromShapeInput(ctx));
    std::lock_guard<std::mutex> lock(mu_);
    std::uniform_int_distribution<int64_t> dist(low, high - 1);
    for (T& v : out->flat<T>()) v = static_cast<T>(dist(engine_));
    return absl::OkStatus();
  }
};

class RandomShuffleOp : public RandomOpBase {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& value = ctx->input(0);
    if (value.dims() == 0 || value.dim_size(0) <= 1) {
      ctx->set_output(0, value);
      return absl::OkStatus();
    }
    const int64_t rows = value.dim_size(0);
    std::vector<int64_t> order(rows);
    for (int64_t i = 0; i < rows; ++i) order[i] = i;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (int64_t i = rows - 1; i > 0; --i) {  // Fisher-Yates
        std::uniform_int_distribution<int64_t> pick(0, i);
        std::swap(order[i], order[pick(engine_)]);
      }
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, value.shape(), &out));
    const size_t row_bytes = value.TotalBytes() / rows;
    for (int64_t i = 0; i < rows; ++i) {
      std::memcpy(static_cast<char*>(out->raw_data()) + i * row_bytes,
                  static_cast<const char*>(value.raw_data()) + order[i] * row_bytes, row_bytes);
    }
    return absl::OkStatus();
  }
};

template <typename T>
class MultinomialOp : public RandomOpBase {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& logits = ctx->input(0);
    RN_REQUIRE(logits.dims() == 2, "logits must be [batch, classes], got shape ",
               logits.shape().DebugString());
    ASSIGN_OR_RETURN(int64_t n, IntScalar(ctx->input(1), "num_samples"));
    RN_REQUIRE(n >= 0, "num_samples must be non-negative, got ", n);
    const int64_t batch = logits.dim_size(0), classes = logits.dim_size(1);
    RN_REQUIRE(classes > 0 || n == 0, "cannot sample from 0 classes");
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{batch, n}, &out));
    std::vector<double> cdf(classes);
    std::lock_guard<std::mutex> lock(mu_);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    for (int64_t b = 0; b < batch; ++b) {
      const T* row = logits.data<T>() + b * classes;
      const T max = *std::max_element(row, row + classes);
      double total = 0;
      for (int64_t k = 0; k < classes; ++k) cdf[k] = total += std::exp(double(row[k] - max));
      for (int64_t s = 0; s < n; ++s) {
        const double u = uniform(engine_) * total;
        const int64_t k = std::min<int64_t>(
            std::upper_bound(cdf.begin(), cdf.end(), u) - cdf.begin(), classes - 1);
        if (out->dtype() == DT_INT64)
          out->data<int64_t>()[b * n + s] = k;
        else
          out->data<int32_t>()[b * n + s] = static_cast<int32_t>(k);
      }
    }
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("RandomUniform", kCpu, "dtype", RandomUniformOp, float, double);
REGISTER_KERNEL_FOR_TYPES("RandomStandardNormal", kCpu, "dtype", RandomNormalOp, float, double);
REGISTER_KERNEL_FOR_TYPES("TruncatedNormal", kCpu, "dtype", TruncatedNormalOp, float, double);
// A GPU draws the same numbers, on the host (its Philox stream is the CPU kernel's), and
// the consumers copy them in.
template <template <typename> class K>
bool RegisterHostDrawnForGpu(const char* op) {
  auto def = [&](DataType t) {
    return KernelDefBuilder(op)
        .Device(kGpu)
        .TypeConstraint("dtype", {t})
        .HostMemory("shape")
        .HostMemory("output")
        .def();
  };
  KernelRegistry::Global()->Register(def(DT_FLOAT), &MakeKernel<K<float>>);
  KernelRegistry::Global()->Register(def(DT_DOUBLE), &MakeKernel<K<double>>);
  return true;
}
const bool kGpuRegistered = RegisterHostDrawnForGpu<RandomUniformOp>("RandomUniform") &&
                            RegisterHostDrawnForGpu<RandomNormalOp>("RandomStandardNormal") &&
                            RegisterHostDrawnForGpu<TruncatedNormalOp>("TruncatedNormal");
REGISTER_KERNEL_FOR_TYPES("RandomUniformInt", kCpu, "Tout", RandomUniformIntOp, int32_t, int64_t);
REGISTER_KERNEL(KernelDefBuilder("RandomShuffle").Device(kCpu), RandomShuffleOp);
REGISTER_KERNEL_FOR_TYPES("Multinomial", kCpu, "T", MultinomialOp, float, double);

}  // namespace
}  // namespace runnel
