// Reductions (Sum, Mean, Max, Min, Prod, All, Any) and ArgMax/ArgMin. The input is viewed
// as [outer, reduced, inner] blocks after merging neighbouring dims, and each block of
// reduced dims is folded in one pass.
#include <limits>

#include "Eigen/Core"
#include "core/kernel_registry.h"
#include "kernels/util/reduction.h"

namespace runnel {
namespace {

struct SumR {
  template <typename T>
  static T Identity() {
    return T(0);
  }
  template <typename T>
  static T Combine(T a, T b) {
    return a + b;
  }
  template <typename Map>
  static auto Row(const Map& m) {
    return m.sum();
  }
};
struct ProdR {
  template <typename T>
  static T Identity() {
    return T(1);
  }
  template <typename T>
  static T Combine(T a, T b) {
    return a * b;
  }
  template <typename Map>
  static auto Row(const Map& m) {
    return m.prod();
  }
};
struct MaxR {
  template <typename T>
  static T Identity() {
    return std::numeric_limits<T>::has_infinity ? -std::numeric_limits<T>::infinity()
                                                : std::numeric_limits<T>::lowest();
  }
  template <typename T>
  static T Combine(T a, T b) {
    return a > b ? a : b;
  }
  template <typename Map>
  static auto Row(const Map& m) {
    return m.maxCoeff();
  }
};
struct MinR {
  template <typename T>
  static T Identity() {
    return std::numeric_limits<T>::has_infinity ? std::numeric_limits<T>::infinity()
                                                : std::numeric_limits<T>::max();
  }
  template <typename T>
  static T Combine(T a, T b) {
    return a < b ? a : b;
  }
  template <typename Map>
  static auto Row(const Map& m) {
    return m.minCoeff();
  }
};
struct AllR {
  template <typename T>
  static T Identity() {
    return true;
  }
  template <typename T>
  static T Combine(T a, T b) {
    return a && b;
  }
  template <typename Map>
  static auto Row(const Map& m) {
    return m.all();
  }
};
struct AnyR {
  template <typename T>
  static T Identity() {
    return false;
  }
  template <typename T>
  static T Combine(T a, T b) {
    return a || b;
  }
  template <typename Map>
  static auto Row(const Map& m) {
    return m.any();
  }
};

// Folds [outer, r, inner] into [outer, inner].
template <typename T, typename R>
void ReduceBlock(const T* in, T* out, int64_t outer, int64_t r, int64_t inner, ThreadPool* pool) {
  if (inner == 1) {
    pool->ParallelFor(outer, r * 2 + 1, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        if (r == 0) {
          out[o] = R::template Identity<T>();
        } else {
          Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>> row(in + o * r, r);
          out[o] = static_cast<T>(R::Row(row));
        }
      }
    });
    return;
  }
  // Split over outer blocks, or over inner columns when there is one outer block.
  auto fold = [&](int64_t o, int64_t jb, int64_t je) {
    T* acc = out + o * inner;
    for (int64_t j = jb; j < je; ++j) acc[j] = R::template Identity<T>();
    for (int64_t k = 0; k < r; ++k) {
      const T* row = in + (o * r + k) * inner;
      for (int64_t j = jb; j < je; ++j) acc[j] = R::Combine(acc[j], row[j]);
    }
  };
  if (outer > 1) {
    pool->ParallelFor(outer, r * inner + 1, [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) fold(o, 0, inner);
    });
  } else {
    pool->ParallelFor(inner, r + 1, [&](int64_t b, int64_t e) { fold(0, b, e); });
  }
}

template <typename T, typename R, bool kMean = false>
class ReductionOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("keep_dims", &keep_dims_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    ASSIGN_OR_RETURN(ReductionPlan plan, MakeReductionPlan(x.shape(), ctx->input(1), keep_dims_));
    const TensorShape& out_shape = plan.out_shape;
    const int64_t count = plan.count;
    std::vector<std::pair<int64_t, bool>>& groups = plan.groups;
    int passes = plan.passes;
    if (passes == 0) {
      // Nothing to fold (only size-1 axes reduced, as in most broadcast gradients): the
      // output is the input, sharing its buffer.
      ASSIGN_OR_RETURN(Tensor same, x.Reshaped(out_shape));
      ctx->set_output(0, std::move(same));
      return absl::OkStatus();
    }
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, out_shape, &out));
    if (out->NumElements() == 0) return absl::OkStatus();
    // Fold one reduced group at a time, innermost first; all but the last pass write to a
    // temporary.
    Tensor current = x;
    for (int gi = static_cast<int>(groups.size()) - 1; gi >= 0 && passes > 0; --gi) {
      if (!groups[gi].second) continue;
      int64_t inner = 1;
      for (size_t k = gi + 1; k < groups.size(); ++k) inner *= groups[k].first;
      int64_t outer = 1;
      for (int k = 0; k < gi; ++k) outer *= groups[k].first;
      int64_t r = groups[gi].first;
      Tensor next = --passes == 0 ? *out : Tensor(x.dtype(), TensorShape{outer * inner});
      ReduceBlock<T, R>(current.data<T>(), next.data<T>(), outer, r, inner, ctx->thread_pool());
      current = next;
      groups[gi].first = 1;
    }
    if constexpr (kMean) {
      if (std::is_integral_v<T> && count == 0) return absl::OkStatus();  // stays 0
      T* o = out->data<T>();
      for (int64_t i = 0; i < out->NumElements(); ++i) o[i] = o[i] / static_cast<T>(count);
    }
    return absl::OkStatus();
  }

 private:
  bool keep_dims_ = false;
};

template <typename T>
using SumOp = ReductionOp<T, SumR>;
template <typename T>
using MeanOp = ReductionOp<T, SumR, true>;
template <typename T>
using ProdOp = ReductionOp<T, ProdR>;
template <typename T>
using MaxOp = ReductionOp<T, MaxR>;
template <typename T>
using MinOp = ReductionOp<T, MinR>;

template <typename T, bool kMax>
class ArgReductionOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& axis_t = ctx->input(1);
    RN_REQUIRE(axis_t.NumElements() == 1, "dimension must be a scalar, got shape ",
               axis_t.shape().DebugString());
    int64_t axis = axis_t.dtype() == DT_INT32 ? axis_t.scalar<int32_t>() : axis_t.scalar<int64_t>();
    RN_REQUIRE(axis >= -x.dims() && axis < x.dims(), "dimension ", axis,
               " is out of range for input of shape ", x.shape().DebugString());
    if (axis < 0) axis += x.dims();
    RN_REQUIRE(x.dim_size(axis) > 0, "cannot take ", kMax ? "ArgMax" : "ArgMin",
               " over an empty dimension (input shape ", x.shape().DebugString(), ")");
    TensorShape out_shape = x.shape();
    out_shape.RemoveDim(static_cast<int>(axis));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, out_shape, &out));
    int64_t r = x.dim_size(axis), inner = 1;
    for (int i = axis + 1; i < x.dims(); ++i) inner *= x.dim_size(i);
    int64_t outer = x.NumElements() / (r * inner);
    const T* in = x.data<T>();
    bool out64 = out->dtype() == DT_INT64;
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t j = 0; j < inner; ++j) {
        const T* p = in + o * r * inner + j;
        int64_t best = 0;
        for (int64_t k = 1; k < r; ++k) {
          if (kMax ? p[k * inner] > p[best * inner] : p[k * inner] < p[best * inner]) best = k;
        }
        if (out64)
          out->data<int64_t>()[o * inner + j] = best;
        else
          out->data<int32_t>()[o * inner + j] = static_cast<int32_t>(best);
      }
    }
    return absl::OkStatus();
  }
};
template <typename T>
using ArgMaxOp = ArgReductionOp<T, true>;
template <typename T>
using ArgMinOp = ArgReductionOp<T, false>;

REGISTER_KERNEL_FOR_TYPES("Sum", kCpu, "T", SumOp, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Mean", kCpu, "T", MeanOp, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Prod", kCpu, "T", ProdOp, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Max", kCpu, "T", MaxOp, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("Min", kCpu, "T", MinOp, RN_REAL_TYPES);
REGISTER_KERNEL(KernelDefBuilder("All").Device(kCpu), ReductionOp<bool, AllR>);
REGISTER_KERNEL(KernelDefBuilder("Any").Device(kCpu), ReductionOp<bool, AnyR>);
REGISTER_KERNEL_FOR_TYPES("ArgMax", kCpu, "T", ArgMaxOp, RN_REAL_TYPES);
REGISTER_KERNEL_FOR_TYPES("ArgMin", kCpu, "T", ArgMinOp, RN_REAL_TYPES);

}  // namespace
}  // namespace runnel
