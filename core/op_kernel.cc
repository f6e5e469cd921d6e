#include "core/op_kernel.h"

namespace runnel {

namespace {

bool OutputOnHost(const OpKernelContext::Params& params, int i) {
  return params.host_outputs != nullptr && (*params.host_outputs)[i];
}

}  // namespace

absl::Status OpKernelContext::allocate_output(int i, const TensorShape& shape, Tensor** out) {
  outputs_[i] = Tensor(output_type(i), shape,
                       OutputOnHost(params_, i) ? params_.host_allocator : params_.allocator);
  *out = &outputs_[i];
  return absl::OkStatus();
}

absl::Status OpKernelContext::forward_input_or_allocate_output(
    std::initializer_list<int> candidates, int output, const TensorShape& shape, Tensor** out) {
  for (int i : candidates) {
    Tensor& in = params_.inputs[i];
    const bool same_memory = params_.host_outputs == nullptr ||
                             in.on_host() == OutputOnHost(params_, output);
    if (in.RefCountIsOne() && in.dtype() == output_type(output) &&
        in.NumElements() == shape.num_elements() && same_memory) {
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
