// Shape inference: each op's shape function receives an InferenceContext holding what is
// known of its inputs (partial shapes, and the values of constant inputs) and sets the
// partial shapes of its outputs.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/attr_value.h"
#include "core/tensor.h"
#include "core/tensor_shape.h"

namespace runnel {

class InferenceContext {
 public:
  // `shape_sources[i]`, when set, is the shape that input i (a Shape op's output) holds.
  InferenceContext(const NodeDef& node, std::vector<PartialShape> input_shapes,
                   std::vector<const Tensor*> input_tensors, std::vector<DataType> input_types,
                   int num_outputs, std::vector<const PartialShape*> shape_sources = {})
      : attrs_(node),
        inputs_(std::move(input_shapes)),
        input_tensors_(std::move(input_tensors)),
        input_types_(std::move(input_types)),
        shape_sources_(std::move(shape_sources)),
        outputs_(num_outputs, PartialShape::UnknownRank()) {
    shape_sources_.resize(inputs_.size(), nullptr);
  }

  const AttrSlice& attrs() const { return attrs_; }
  template <typename T>
  absl::Status GetAttr(const std::string& name, T* value) const {
    return attrs_.Get(name, value);
  }
  const std::string& node_name() const { return attrs_.node().name(); }

  int num_inputs() const { return static_cast<int>(inputs_.size()); }
  const PartialShape& input(int i) const { return inputs_[i]; }
  DataType input_type(int i) const { return input_types_[i]; }
  // The value of input i when it is a constant known while building; nullptr otherwise.
  const Tensor* input_tensor(int i) const { return input_tensors_[i]; }

  int num_outputs() const { return static_cast<int>(outputs_.size()); }
  void set_output(int i, PartialShape shape) { outputs_[i] = std::move(shape); }
  const PartialShape& output(int i) const { return outputs_[i]; }
  std::vector<PartialShape> TakeOutputs() { return std::move(outputs_); }

  // Fails unless input i has rank `rank` (or unknown rank).
  absl::Status WithRank(int i, int rank) const;
  absl::Status WithRankAtLeast(int i, int rank) const;
  // Reads a shape held in the 1-D int32/int64 tensor input i (e.g. Reshape's `shape`):
  // known values where the tensor is constant or comes from a Shape op, unknown dims of
  // the right rank otherwise.
  PartialShape ShapeFromShapeTensor(int i) const;
  // The scalar value of constant input i, if known.
  bool ConstantScalar(int i, int64_t* value) const;

  template <typename... Args>
  absl::Status InvalidArgument(const Args&... args) const {
    return absl::InvalidArgumentError(absl::StrCat(args...));
  }

 private:
  AttrSlice attrs_;
  std::vector<PartialShape> inputs_;
  std::vector<const Tensor*> input_tensors_;
  std::vector<DataType> input_types_;
  std::vector<const PartialShape*> shape_sources_;
  std::vector<PartialShape> outputs_;
};

// Shape functions shared by many ops.
namespace shape_fn {
// Every output has unknown shape.
absl::Status Unknown(InferenceContext* c);
// Output 0 has input 0's shape.
absl::Status Unchanged(InferenceContext* c);
// Output 0 is a scalar.
absl::Status Scalar(InferenceContext* c);
// Output 0 is the numpy broadcast of inputs 0 and 1.
absl::Status BroadcastBinary(InferenceContext* c);
// Numpy broadcasting of two partial shapes.
absl::StatusOr<PartialShape> Broadcast(const PartialShape& a, const PartialShape& b);
}  // namespace shape_fn

}  // namespace runnel
