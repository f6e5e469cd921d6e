#include "runtime/step_stats.h"

namespace runnel {

int64_t EstimateFlops(const std::string& op, const std::vector<std::vector<int64_t>>& input_shapes,
                      const std::vector<int64_t>& output_shape) {
  int64_t out = 1;
  for (int64_t d : output_shape) out *= d;
  if (output_shape.empty() || out <= 0 || input_shapes.size() < 2) return 0;
  const std::vector<int64_t>& a = input_shapes[0];
  const std::vector<int64_t>& b = input_shapes[1];
  if (op == "MatMul" || op == "_FusedMatMul" || op == "BatchMatMul" || op == "BatchMatMulV2") {
    // out has [..., M, N]; the inner dim is whichever of a's last two is not M.
    if (a.size() < 2) return 0;
    const int64_t m = output_shape[output_shape.size() - 2];
    const int64_t k = a[a.size() - 1] == m && a[a.size() - 2] != m ? a[a.size() - 2]
                                                                   : a[a.size() - 1];
    return 2 * out * k;
  }
  if (b.size() != 4) return 0;
  if (op == "Conv2D" || op == "_FusedConv2D") return 2 * out * b[0] * b[1] * b[2];
  if (op == "DepthwiseConv2dNative" || op == "_FusedDepthwiseConv2dNative") {
    return 2 * out * b[0] * b[1];
  }
  return 0;
}

}  // namespace runnel
