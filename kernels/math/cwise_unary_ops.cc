// Elementwise unary math, vectorized through Eigen arrays.
#include "kernels/util/cwise_ops.h"

namespace runnel {
namespace {

template <typename T>
struct NegF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = -x; }
};
template <typename T>
struct AbsF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.abs(); }
};
template <typename T>
struct SquareF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.square(); }
};
template <typename T>
struct SignF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const {
    y = (x > T(0)).template cast<T>() - (x < T(0)).template cast<T>();
  }
};
template <typename T>
struct SqrtF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.sqrt(); }
};
template <typename T>
struct RsqrtF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.rsqrt(); }
};
template <typename T>
struct ReciprocalF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.inverse(); }
};
template <typename T>
struct ExpF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.exp(); }
};
template <typename T>
struct Expm1F {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.expm1(); }
};
template <typename T>
struct LogF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.log(); }
};
template <typename T>
struct Log1pF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.log1p(); }
};
template <typename T>
struct FloorF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.floor(); }
};
template <typename T>
struct CeilF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.ceil(); }
};
template <typename T>
struct RoundF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const {
    if constexpr (std::is_floating_point_v<T>) {
      y = x.rint();  // the default rounding mode rounds halves to even
    } else {
      y = x;
    }
  }
};
template <typename T>
struct SigmoidF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.logistic(); }
};
template <typename T>
struct TanhF {
  void operator()(ConstArrayMap<T> x, ArrayMap<T> y) const { y = x.tanh(); }
};
struct LogicalNotF {
  void operator()(ConstArrayMap<bool> x, ArrayMap<bool> y) const { y = !x; }
};

REGISTER_KERNEL_FOR_TYPES("Neg", kCpu, "T", UnaryKernel<NegF>::Op, RN_SIGNED_TYPES);
REGISTER_KERNEL_FOR_TYPES("Abs", kCpu, "T", UnaryKernel<AbsF>::Op, RN_SIGNED_TYPES);
REGISTER_KERNEL_FOR_TYPES("Square", kCpu, "T", UnaryKernel<SquareF>::Op, RN_SIGNED_TYPES);
REGISTER_KERNEL_FOR_TYPES("Sign", kCpu, "T", UnaryKernel<SignF>::Op, RN_SIGNED_TYPES);
REGISTER_KERNEL_FOR_TYPES("Round", kCpu, "T", UnaryKernel<RoundF>::Op, RN_SIGNED_TYPES);
REGISTER_KERNEL_FOR_TYPES("Sqrt", kCpu, "T", UnaryKernel<SqrtF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Rsqrt", kCpu, "T", UnaryKernel<RsqrtF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Reciprocal", kCpu, "T", UnaryKernel<ReciprocalF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Exp", kCpu, "T", UnaryKernel<ExpF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Expm1", kCpu, "T", UnaryKernel<Expm1F>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Log", kCpu, "T", UnaryKernel<LogF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Log1p", kCpu, "T", UnaryKernel<Log1pF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Floor", kCpu, "T", UnaryKernel<FloorF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Ceil", kCpu, "T", UnaryKernel<CeilF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Sigmoid", kCpu, "T", UnaryKernel<SigmoidF>::Op, float, double);
REGISTER_KERNEL_FOR_TYPES("Tanh", kCpu, "T", UnaryKernel<TanhF>::Op, float, double);
REGISTER_KERNEL(KernelDefBuilder("LogicalNot").Device(kCpu), UnaryCwiseOp<bool, LogicalNotF>);

}  // namespace
}  // namespace runnel
