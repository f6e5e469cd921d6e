// Elementwise binary arithmetic and comparisons with broadcasting.
#include <cmath>

#include "kernels/util/cwise_ops.h"

namespace runnel {
namespace {

template <typename T>
absl::Status CheckIntegerDivisor(const Tensor& y) {
  if constexpr (std::is_integral_v<T>) {
    for (T v : y.flat<T>()) {
      if (v == 0) return absl::InvalidArgumentError("integer division by zero");
    }
  }
  return absl::OkStatus();
}

// Integer quotient that does not trap on min / -1.
template <typename T>
T TruncDiv(T a, T b) {
  if constexpr (std::is_signed_v<T> && std::is_integral_v<T>) {
    if (b == -1) return static_cast<T>(-static_cast<std::make_unsigned_t<T>>(a));
  }
  return static_cast<T>(a / b);
}

template <typename T>
struct AddF {
  T operator()(T a, T b) const { return a + b; }
};
template <typename T>
struct SubF {
  T operator()(T a, T b) const { return a - b; }
};
template <typename T>
struct MulF {
  T operator()(T a, T b) const { return a * b; }
};
template <typename T>
struct MaximumF {
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a)) return a;  // NaN propagates, as in TensorFlow
    }
    return a > b ? a : b;
  }
};
template <typename T>
struct MinimumF {
  T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(a)) return a;
    }
    return a < b ? a : b;
  }
};
template <typename T>
struct SquaredDifferenceF {
  T operator()(T a, T b) const { return (a - b) * (a - b); }
};
template <typename T>
struct RealDivF {
  static absl::Status Check(const Tensor& y) { return CheckIntegerDivisor<T>(y); }
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) return TruncDiv(a, b);
    return a / b;
  }
};
template <typename T>
struct FloorDivF {
  static absl::Status Check(const Tensor& y) { return CheckIntegerDivisor<T>(y); }
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      T q = TruncDiv(a, b);
      if constexpr (std::is_signed_v<T>) {
        if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
      }
      return q;
    }
    return std::floor(a / b);
  }
};
template <typename T>
struct FloorModF {
  static absl::Status Check(const Tensor& y) { return CheckIntegerDivisor<T>(y); }
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if constexpr (std::is_signed_v<T>) {
        if (b == -1) return 0;
      }
      T r = a % b;
      if constexpr (std::is_signed_v<T>) {
        if (r != 0 && ((r < 0) != (b < 0))) r += b;
      }
      return r;
    }
    T r = std::fmod(a, b);
    if (r != 0 && ((r < 0) != (b < 0))) r += b;
    return r;
  }
};
template <typename T>
struct PowF {
  T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>) {
      if (b < 0) return a == 1 ? 1 : (a == -1 ? (b % 2 == 0 ? 1 : -1) : 0);
      T result = 1;
      for (T base = a, e = b; e > 0; e >>= 1, base *= base) {
        if (e & 1) result *= base;
      }
      return result;
    }
    return std::pow(a, b);
  }
};

template <typename T>
struct EqualF {
  bool operator()(T a, T b) const { return a == b; }
};
template <typename T>
struct NotEqualF {
  bool operator()(T a, T b) const { return a != b; }
};
template <typename T>
struct LessF {
  bool operator()(T a, T b) const { return a < b; }
};
template <typename T>
struct LessEqualF {
  bool operator()(T a, T b) const { return a <= b; }
};
template <typename T>
struct GreaterF {
  bool operator()(T a, T b) const { return a > b; }
};
template <typename T>
struct GreaterEqualF {
  bool operator()(T a, T b) const { return a >= b; }
};

struct LogicalAndF {
  bool operator()(bool a, bool b) const { return a && b; }
};
struct LogicalOrF {
  bool operator()(bool a, bool b) const { return a || b; }
};

REGISTER_KERNEL_FOR_TYPES("Add", kCpu, "T", BinaryKernel<AddF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("AddV2", kCpu, "T", BinaryKernel<AddF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Sub", kCpu, "T", BinaryKernel<SubF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Mul", kCpu, "T", BinaryKernel<MulF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("RealDiv", kCpu, "T", BinaryKernel<RealDivF>::Op, RN_REAL_TYPES);
// Div on integers floors (Python 2 semantics); on floats it is true division.
REGISTER_KERNEL_FOR_TYPES("Div", kCpu, "T", BinaryKernel<RealDivF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Div", kCpu, "T", BinaryKernel<FloorDivF>::Op, int32_t, int64_t, uint8_t,
                          int16_t, int8_t);
REGISTER_KERNEL_FOR_TYPES("FloorDiv", kCpu, "T", BinaryKernel<FloorDivF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("FloorMod", kCpu, "T", BinaryKernel<FloorModF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Pow", kCpu, "T", BinaryKernel<PowF>::Op, RN_SIGNED_TYPES);
REGISTER_KERNEL_FOR_TYPES("Maximum", kCpu, "T", BinaryKernel<MaximumF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Minimum", kCpu, "T", BinaryKernel<MinimumF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("SquaredDifference", kCpu, "T", BinaryKernel<SquaredDifferenceF>::Op,
                          RN_SIGNED_TYPES);

REGISTER_KERNEL_FOR_TYPES("Equal", kCpu, "T", ComparisonKernel<EqualF>::Op, RN_REAL_TYPES, bool);
REGISTER_KERNEL_FOR_TYPES("NotEqual", kCpu, "T", ComparisonKernel<NotEqualF>::Op, RN_REAL_TYPES,
                          bool);
REGISTER_KERNEL_FOR_TYPES("Less", kCpu, "T", ComparisonKernel<LessF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("LessEqual", kCpu, "T", ComparisonKernel<LessEqualF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Greater", kCpu, "T", ComparisonKernel<GreaterF>::Op, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("GreaterEqual", kCpu, "T", ComparisonKernel<GreaterEqualF>::Op,
                          RN_REAL_TYPES);

REGISTER_KERNEL(KernelDefBuilder("LogicalAnd").Device(kCpu), BinaryCwiseOp<bool, LogicalAndF>);
REGISTER_KERNEL(KernelDefBuilder("LogicalOr").Device(kCpu), BinaryCwiseOp<bool, LogicalOrF>);

}  // namespace
}  // namespace runnel
