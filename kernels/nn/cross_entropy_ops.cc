// Softmax cross-entropy (dense and sparse labels) in one pass per row, stable for large
// logits: loss = <labels, logsumexp(x) - x>, backprop = d loss / d x.
#include <cmath>

#include "core/kernel_registry.h"
#include "kernels/util/kernel_args.h"

namespace runnel {
namespace {

template <typename T, typename Label, bool kSparse>
class SoftmaxCrossEntropyOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& logits = ctx->input(0);
    const Tensor& labels = ctx->input(1);
    RETURN_IF_ERROR(CheckCrossEntropy(logits, labels, kSparse));
    const int64_t batch = logits.dim_size(0), classes = logits.dim_size(1);
    if constexpr (kSparse) {
      for (int64_t i = 0; i < batch; ++i) {
        const Label l = labels.data<Label>()[i];
        RN_REQUIRE(l >= 0 && l < classes, "Received a label value of ", l,
                   " which is outside the valid range of [0, ", classes, ")");
      }
    }
    Tensor *loss, *backprop;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{batch}, &loss));
    RETURN_IF_ERROR(ctx->allocate_output(1, logits.shape(), &backprop));
    const T* x = logits.data<T>();
    T* out = loss->data<T>();
    T* grad = backprop->data<T>();
    ctx->thread_pool()->ParallelFor(batch, classes * 20, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* row = x + i * classes;
        T* g = grad + i * classes;
        T max = row[0];
        for (int64_t k = 1; k < classes; ++k) max = std::max(max, row[k]);
        T sum = 0;
        for (int64_t k = 0; k < classes; ++k) sum += (g[k] = std::exp(row[k] - max));
        const T log_sum = std::log(sum);
        T total = 0;
        if constexpr (kSparse) {
          const Label l = labels.data<Label>()[i];
          total = log_sum - (row[l] - max);
          for (int64_t k = 0; k < classes; ++k) g[k] = g[k] / sum - (k == l ? T(1) : T(0));
        } else {
          // Exact for any labels: d/dx = softmax * sum(labels) - labels (the usual
          // softmax - labels when they are a distribution).
          const T* y = labels.data<T>() + i * classes;
          T label_sum = 0;
          for (int64_t k = 0; k < classes; ++k) {
            if (y[k] != T(0)) total += y[k] * (log_sum - (row[k] - max));
            label_sum += y[k];
          }
          for (int64_t k = 0; k < classes; ++k) g[k] = g[k] / sum * label_sum - y[k];
        }
        out[i] = total;
      }
    });
    return absl::OkStatus();
  }
};

template <typename T>
using DenseCrossEntropy = SoftmaxCrossEntropyOp<T, T, false>;
template <typename T, typename Label>
using SparseCrossEntropy = SoftmaxCrossEntropyOp<T, Label, true>;

template <typename T>
class L2LossOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& t = ctx->input(0);
    double total = 0;  // accumulate in double: a loss over many weights
    for (T v : t.flat<T>()) total += static_cast<double>(v) * v;
    ctx->set_output(0, Tensor::Scalar<T>(static_cast<T>(total / 2)));
    return absl::OkStatus();
  }
};

REGISTER_KERNEL_FOR_TYPES("SoftmaxCrossEntropyWithLogits", kCpu, "T", DenseCrossEntropy, float,
                          double);
REGISTER_KERNEL_FOR_TYPES_AND_INDICES("SparseSoftmaxCrossEntropyWithLogits", kCpu, "T", "Tlabels",
                                      SparseCrossEntropy, float, double);
REGISTER_KERNEL_FOR_TYPES("L2Loss", kCpu, "T", L2LossOp, float, double);

}  // namespace
}  // namespace runnel
