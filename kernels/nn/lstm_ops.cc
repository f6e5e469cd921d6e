// LSTMBlockCell and its gradient (ops/nn/rnn_ops.cc): the gate product as two GEMMs into
// one [batch, 4 * cell] buffer (x with w's first rows, h_prev with the rest, so [x, h_prev]
// is never copied together), then the gates' elementwise math as Eigen array expressions
// over the buffer's column blocks.
#include <Eigen/Core>

#include "core/kernel_registry.h"
#include "kernels/util/gemm.h"

namespace runnel {
namespace {

template <typename T>
using Block = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                         Eigen::OuterStride<>>;
template <typename T>
using ConstBlock =
    Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
               Eigen::OuterStride<>>;
template <typename T>
using Row = Eigen::Map<const Eigen::Array<T, 1, Eigen::Dynamic>>;

// The [batch, cell] matrix `t` (or its column block `k` of width `cell`, in a [batch,
// 4 * cell] one).
template <typename T>
ConstBlock<T> In(const Tensor& t, int64_t batch, int64_t cell, int k = 0) {
  return ConstBlock<T>(t.data<T>() + k * cell, batch, cell, Eigen::OuterStride<>(t.dim_size(1)));
}
template <typename T>
Block<T> Out(Tensor* t, int64_t batch, int64_t cell, int k = 0) {
  return Block<T>(t->data<T>() + k * cell, batch, cell, Eigen::OuterStride<>(t->dim_size(1)));
}

struct Sizes {
  int64_t batch, input, cell;
};

absl::StatusOr<Sizes> CheckInputs(OpKernelContext* ctx) {
  const Tensor& x = ctx->input(0);
  const Tensor& cs_prev = ctx->input(1);
  const Tensor& h_prev = ctx->input(2);
  const Tensor& w = ctx->input(3);
  RN_REQUIRE(x.dims() == 2 && cs_prev.dims() == 2, "x and cs_prev must be matrices, got shapes ",
             x.shape().DebugString(), " and ", cs_prev.shape().DebugString());
  const Sizes s{x.dim_size(0), x.dim_size(1), cs_prev.dim_size(1)};
  RN_REQUIRE(cs_prev.dim_size(0) == s.batch && h_prev.shape() == cs_prev.shape(),
             "x, cs_prev and h_prev must have one row per batch element and cs_prev, h_prev "
             "the same shape; got ",
             x.shape().DebugString(), ", ", cs_prev.shape().DebugString(), " and ",
             h_prev.shape().DebugString());
  RN_REQUIRE(w.dims() == 2 && w.dim_size(0) == s.input + s.cell && w.dim_size(1) == 4 * s.cell,
             "w must be [input + cell, 4 * cell] = [", s.input + s.cell, ", ", 4 * s.cell,
             "], got ", w.shape().DebugString());
  for (int k = 4; k < 7; ++k) {
    RN_REQUIRE(ctx->input(k).dims() == 1 && ctx->input(k).dim_size(0) == s.cell,
               "the peepholes must be vectors of ", s.cell, ", got ",
               ctx->input(k).shape().DebugString());
  }
  RN_REQUIRE(ctx->input(7).dims() == 1 && ctx->input(7).dim_size(0) == 4 * s.cell,
             "b must be a vector of ", 4 * s.cell, ", got ", ctx->input(7).shape().DebugString());
  return s;
}

template <typename T>
class LSTMBlockCellOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("forget_bias", &forget_bias_));
    RETURN_IF_ERROR(ctx->GetAttr("cell_clip", &cell_clip_));
    return ctx->GetAttr("use_peephole", &use_peephole_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Sizes s, CheckInputs(ctx));
    const Tensor& w = ctx->input(3);
    Tensor gates(DataTypeToEnum<T>::value, TensorShape{s.batch, 4 * s.cell});
    T* g = gates.data<T>();
    const T* wp = w.data<T>();
    // gates = x @ w[:input] + h_prev @ w[input:], then + b.
    Gemm(Dense(ctx->input(0).data<T>(), s.batch, s.input),
         MatrixArg<T>{wp, s.input, 4 * s.cell, 4 * s.cell}, g, false, ctx->thread_pool());
    Gemm(Dense(ctx->input(2).data<T>(), s.batch, s.cell),
         MatrixArg<T>{wp + s.input * 4 * s.cell, s.cell, 4 * s.cell, 4 * s.cell}, g, true,
         ctx->thread_pool());
    Out<T>(&gates, s.batch, 4 * s.cell).rowwise() += Row<T>(ctx->input(7).data<T>(), 4 * s.cell);

    std::vector<Tensor*> out(7);
    for (int k = 0; k < 7; ++k) {
      RETURN_IF_ERROR(ctx->allocate_output(k, TensorShape{s.batch, s.cell}, &out[k]));
    }
    const int64_t b = s.batch, c = s.cell;
    auto cs_prev = In<T>(ctx->input(1), b, c);
    auto i = Out<T>(out[0], b, c), cs = Out<T>(out[1], b, c), f = Out<T>(out[2], b, c);
    auto o = Out<T>(out[3], b, c), ci = Out<T>(out[4], b, c), co = Out<T>(out[5], b, c);
    auto h = Out<T>(out[6], b, c);
    const Row<T> wci(ctx->input(4).data<T>(), c), wcf(ctx->input(5).data<T>(), c),
        wco(ctx->input(6).data<T>(), c);
    const T forget_bias = static_cast<T>(forget_bias_);
    if (use_peephole_) {
      i = (In<T>(gates, b, c, 0) + cs_prev.rowwise() * wci).logistic();
      f = (In<T>(gates, b, c, 2) + forget_bias + cs_prev.rowwise() * wcf).logistic();
    } else {
      i = In<T>(gates, b, c, 0).logistic();
      f = (In<T>(gates, b, c, 2) + forget_bias).logistic();
    }
    ci = In<T>(gates, b, c, 1).tanh();
    cs = ci * i + cs_prev * f;
    if (cell_clip_ >= 0) cs = cs.min(T(cell_clip_)).max(T(-cell_clip_));
    if (use_peephole_) {
      o = (In<T>(gates, b, c, 3) + cs.rowwise() * wco).logistic();
    } else {
      o = In<T>(gates, b, c, 3).logistic();
    }
    co = cs.tanh();
    h = co * o;
    return absl::OkStatus();
  }

 private:
  float forget_bias_ = 1, cell_clip_ = -1;
  bool use_peephole_ = false;
};

template <typename T>
class LSTMBlockCellGradOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("use_peephole", &use_peephole_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(Sizes s, CheckInputs(ctx));
    for (int k = 8; k < 16; ++k) {
      RN_REQUIRE(ctx->input(k).shape() == ctx->input(1).shape(), "input ", k, " must be [", s.batch,
                 ", ", s.cell, "] as cs_prev, got ", ctx->input(k).shape().DebugString());
    }
    const int64_t b = s.batch, c = s.cell;
    Tensor *cs_prev_grad, *dicfo, *wci_grad, *wcf_grad, *wco_grad;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{b, c}, &cs_prev_grad));
    RETURN_IF_ERROR(ctx->allocate_output(1, TensorShape{b, 4 * c}, &dicfo));
    RETURN_IF_ERROR(ctx->allocate_output(2, TensorShape{c}, &wci_grad));
    RETURN_IF_ERROR(ctx->allocate_output(3, TensorShape{c}, &wcf_grad));
    RETURN_IF_ERROR(ctx->allocate_output(4, TensorShape{c}, &wco_grad));
    auto cs_prev = In<T>(ctx->input(1), b, c);
    auto i = In<T>(ctx->input(8), b, c), cs = In<T>(ctx->input(9), b, c);
    auto f = In<T>(ctx->input(10), b, c), o = In<T>(ctx->input(11), b, c);
    auto ci = In<T>(ctx->input(12), b, c), co = In<T>(ctx->input(13), b, c);
    auto cs_grad = In<T>(ctx->input(14), b, c), h_grad = In<T>(ctx->input(15), b, c);
    auto di = Out<T>(dicfo, b, c, 0), dci = Out<T>(dicfo, b, c, 1);
    auto df = Out<T>(dicfo, b, c, 2), d_o = Out<T>(dicfo, b, c, 3);
    auto dcs = Out<T>(cs_prev_grad, b, c);  // dcs first, then cs_prev's gradient in place
    d_o = o * (T(1) - o) * h_grad * co;
    dcs = (T(1) - co.square()) * h_grad * o + cs_grad;
    const Row<T> wci(ctx->input(4).data<T>(), c), wcf(ctx->input(5).data<T>(), c),
        wco(ctx->input(6).data<T>(), c);
    if (use_peephole_) dcs += d_o.rowwise() * wco;
    dci = (T(1) - ci.square()) * dcs * i;
    df = f * (T(1) - f) * dcs * cs_prev;
    di = i * (T(1) - i) * dcs * ci;
    auto sums = [&](Tensor* t) {
      return Eigen::Map<Eigen::Array<T, 1, Eigen::Dynamic>>(t->data<T>(), c);
    };
    if (use_peephole_) {
      sums(wci_grad) = (di * cs_prev).colwise().sum();
      sums(wcf_grad) = (df * cs_prev).colwise().sum();
      sums(wco_grad) = (d_o * cs).colwise().sum();
      dcs = dcs * f + di.rowwise() * wci + df.rowwise() * wcf;
    } else {
      sums(wci_grad).setZero();
      sums(wcf_grad).setZero();
      sums(wco_grad).setZero();
      dcs = dcs * f;
    }
    return absl::OkStatus();
  }

 private:
  bool use_peephole_ = false;
};

REGISTER_KERNEL_FOR_TYPES("LSTMBlockCell", kCpu, "T", LSTMBlockCellOp, float, double);
REGISTER_KERNEL_FOR_TYPES("LSTMBlockCellGrad", kCpu, "T", LSTMBlockCellGradOp, float, double);

}  // namespace
}  // namespace runnel
