#include "core/op_kernel.h"

namespace runnel {

absl::Status OpKernelContext::allocate_output(int i, const TensorShape& shape, Tensor** out) {
  outputs_[i] = Tensor(output_type(i), shape, params_.allocator);
  *out = &outputs_[i];
  return absl::OkStatus();
}

absl::Status OpKernelContext::forward_input_or_allocate_output(
    std::initializer_list<int> candidates, int output, const TensorShape& shape, Tensor** out) {
  for (int i : candidates) {
    Tensor& in = params_.inputs[i];
    if (in.RefCountIsOne() && in.dtype() == output_type(output) &&
        in.NumElements() == shape.num_elements()) {
      auto reshaped = in.Reshaped(shape);
      if (!reshaped.ok()) continue;
      outputs_[output] = *std::move(reshaped);
      *out = &outputs_[output];
      return absl::OkStatus();
    }
  }
  return allocate_output(output, shape, out);
}

}  // namespace runnel
