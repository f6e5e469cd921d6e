// Random kernels. The generator lives in the kernel, which the session keeps for its
// lifetime (stateful ops are created once per session), so each run continues the stream.
#include <mutex>
#include <random>

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

template <typename T> using RandomUniformOp = RandomOp<T, Distribution::kUniform>;
template <typename T> using RandomNormalOp = RandomOp<T, Distribution::kNormal>;
template <typename T> using TruncatedNormalOp = RandomOp<T, Distribution::kTruncatedNormal>;

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

REGISTER_KERNEL_FOR_TYPES("RandomUniform", kCpu, "dtype", RandomUniformOp, float, double);
REGISTER_KERNEL_FOR_TYPES("RandomStandardNormal", kCpu, "dtype", RandomNormalOp, float, double);
REGISTER_KERNEL_FOR_TYPES("TruncatedNormal", kCpu, "dtype", TruncatedNormalOp, float, double);
REGISTER_KERNEL_FOR_TYPES("RandomUniformInt", kCpu, "Tout", RandomUniformIntOp, int32_t, int64_t);

}  // namespace
}  // namespace runnel
