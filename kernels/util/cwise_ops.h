// Elementwise kernels from a functor. A binary functor gives f(x, y) on scalars; a unary
// functor maps a whole block with Eigen arrays (vectorized). Adding an elementwise op is
// one functor and one registration line.
#pragma once

#include <type_traits>

#include "Eigen/Core"
#include "core/kernel_registry.h"
#include "kernels/util/broadcast.h"

namespace runnel {

template <typename T>
using ConstArrayMap = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ArrayMap = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

// Rough cycles per element, to decide how far to parallelize.
inline constexpr int64_t kCwiseCost = 4;

// z = F(x, y) with numpy broadcasting. F has `Out operator()(T, T)` and optionally
// `static absl::Status Check(const Tensor& y)` (e.g. integer division by zero).
template <typename T, typename F, typename Out = T>
class BinaryCwiseOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    const Tensor& y = ctx->input(1);
    if constexpr (HasCheck<F>::value) RETURN_IF_ERROR(F::Check(y));
    Tensor* z;
    if (x.shape() == y.shape()) {
      if constexpr (std::is_same_v<T, Out>) {
        RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0, 1}, 0, x.shape(), &z));
      } else {
        RETURN_IF_ERROR(ctx->allocate_output(0, x.shape(), &z));
      }
      const T* xp = x.data<T>();
      const T* yp = y.data<T>();
      Out* zp = z->data<Out>();
      ctx->thread_pool()->ParallelFor(x.NumElements(), kCwiseCost, [&](int64_t b, int64_t e) {
        F f;
        for (int64_t i = b; i < e; ++i) zp[i] = f(xp[i], yp[i]);
      });
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(BroadcastPlan plan, MakeBroadcastPlan(x.shape(), y.shape()));
    if constexpr (std::is_same_v<T, Out>) {
      RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0, 1}, 0, plan.out_shape, &z));
    } else {
      RETURN_IF_ERROR(ctx->allocate_output(0, plan.out_shape, &z));
    }
    const T* xp = x.data<T>();
    const T* yp = y.data<T>();
    Out* zp = z->data<Out>();
    const int64_t inner = plan.dims.back();
    const int64_t xs = plan.x_strides.back(), ys = plan.y_strides.back();
    const int64_t rows = plan.out_shape.num_elements() / std::max<int64_t>(inner, 1);
    if (plan.out_shape.num_elements() == 0) return absl::OkStatus();
    // The commonest broadcast, a full operand against one row ([N, H, W, C] with [C]):
    // plain loops, without the per-row bookkeeping that costs more than a short row.
    const int64_t total = plan.out_shape.num_elements();
    const bool y_row = x.NumElements() == total && y.NumElements() == inner && ys == 1;
    const bool x_row = y.NumElements() == total && x.NumElements() == inner && xs == 1;
    if (y_row || x_row) {
      ctx->thread_pool()->ParallelFor(rows, inner * kCwiseCost, [&](int64_t b, int64_t e) {
        F f;
        for (int64_t row = b; row < e; ++row) {
          Out* out = zp + row * inner;
          if (y_row) {
            const T* xr = xp + row * inner;
            for (int64_t i = 0; i < inner; ++i) out[i] = f(xr[i], yp[i]);
          } else {
            const T* yr = yp + row * inner;
            for (int64_t i = 0; i < inner; ++i) out[i] = f(xp[i], yr[i]);
          }
        }
      });
      return absl::OkStatus();
    }
    ctx->thread_pool()->ParallelFor(rows, inner * kCwiseCost, [&](int64_t b, int64_t e) {
      F f;
      ForEachBroadcastRow(plan, b, e, [&](int64_t row, int64_t xo, int64_t yo) {
        Out* out = zp + row * inner;
        const T* xr = xp + xo;
        const T* yr = yp + yo;
        // Separate loops per stride pattern so the compiler vectorizes each.
        if (xs == 1 && ys == 1) {
          for (int64_t i = 0; i < inner; ++i) out[i] = f(xr[i], yr[i]);
        } else if (xs == 1) {
          const T yv = *yr;
          for (int64_t i = 0; i < inner; ++i) out[i] = f(xr[i], yv);
        } else if (ys == 1) {
          const T xv = *xr;
          for (int64_t i = 0; i < inner; ++i) out[i] = f(xv, yr[i]);
        } else {
          const Out v = f(*xr, *yr);
          for (int64_t i = 0; i < inner; ++i) out[i] = v;
        }
      });
    });
    return absl::OkStatus();
  }

 private:
  template <typename G, typename = void>
  struct HasCheck : std::false_type {};
  template <typename G>
  struct HasCheck<G, std::void_t<decltype(G::Check(std::declval<const Tensor&>()))>>
      : std::true_type {};
};

// y = F(x) elementwise. F has `void operator()(ConstArrayMap<T> in, ArrayMap<T> out)`;
// it may read attributes through an `Init(OpKernelConstruction*)` member.
template <typename T, typename F>
class UnaryCwiseOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    if constexpr (HasInit<F>::value) return f_.Init(ctx);
    return absl::OkStatus();
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& x = ctx->input(0);
    Tensor* y;
    RETURN_IF_ERROR(ctx->forward_input_or_allocate_output({0}, 0, x.shape(), &y));
    const T* in = x.data<T>();
    T* out = y->data<T>();
    ctx->thread_pool()->ParallelFor(x.NumElements(), 4 * kCwiseCost, [&](int64_t b, int64_t e) {
      f_(ConstArrayMap<T>(in + b, e - b), ArrayMap<T>(out + b, e - b));
    });
    return absl::OkStatus();
  }

 private:
  template <typename G, typename = void>
  struct HasInit : std::false_type {};
  template <typename G>
  struct HasInit<
      G, std::void_t<decltype(std::declval<G&>().Init(std::declval<OpKernelConstruction*>()))>>
      : std::true_type {};
  F f_;
};

// Registers a functor template F<T> as a unary kernel for op `name` over `Ts`.
template <template <typename> class F>
struct UnaryKernel {
  template <typename T>
  using Op = UnaryCwiseOp<T, F<T>>;
};
template <template <typename> class F>
struct BinaryKernel {
  template <typename T>
  using Op = BinaryCwiseOp<T, F<T>>;
};
template <template <typename> class F>
struct ComparisonKernel {
  template <typename T>
  using Op = BinaryCwiseOp<T, F<T>, bool>;
};

}  // namespace runnel
