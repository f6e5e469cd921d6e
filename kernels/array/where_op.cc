// Where with one input: the coordinates of its true (non-zero) elements.
#include "core/kernel_registry.h"

namespace runnel {
namespace {

class WhereOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& input = ctx->input(0);
    bool visited = false;
    absl::Status status;
    VisitDataType(input.dtype(), [&](auto zero) {
      using T = decltype(zero);
      visited = true;
      status = Coordinates(ctx, input.data<T>(), input);
    });
    RN_REQUIRE(visited, "Where does not support ", DataTypeString(input.dtype()));
    return status;
  }

 private:
  template <typename T>
  static absl::Status Coordinates(OpKernelContext* ctx, const T* x, const Tensor& input) {
    const int64_t n = input.NumElements();
    int64_t count = 0;
    for (int64_t i = 0; i < n; ++i) count += x[i] != T(0);
    const int rank = input.dims();
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{count, rank}, &out));
    int64_t* row = out->data<int64_t>();
    std::vector<int64_t> coord(rank, 0);
    for (int64_t i = 0; i < n; ++i) {
      if (x[i] != T(0)) {
        std::copy(coord.begin(), coord.end(), row);
        row += rank;
      }
      for (int d = rank - 1; d >= 0; --d) {  // the next coordinate, row-major
        if (++coord[d] < input.dim_size(d)) break;
        coord[d] = 0;
      }
    }
    return absl::OkStatus();
  }
};

REGISTER_KERNEL(KernelDefBuilder("Where").Device(kCpu), WhereOp);

}  // namespace
}  // namespace runnel
