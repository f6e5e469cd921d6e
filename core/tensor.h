// Tensor: a dtype, a shape and a reference-counted buffer. Copying a Tensor shares the
// buffer; slicing along dim 0 and reshaping share it too.
#pragma once

#include <cstring>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/allocator.h"
#include "core/proto/tensor.pb.h"
#include "core/tensor_shape.h"
#include "core/types.h"

namespace runnel {

// What a DT_RESOURCE tensor's elements point at: an object that lives as long as some
// handle to it does (a TensorArray lives for its step, or for as long as a fetched handle).
class ResourceBase {
 public:
  virtual ~ResourceBase() = default;
  virtual std::string DebugString() const = 0;
};
// A DT_RESOURCE element.
using ResourceHandle = std::shared_ptr<ResourceBase>;

class Tensor {
 public:
  Tensor() = default;  // uninitialized: dtype DT_INVALID, no buffer
  // Allocates an uninitialized buffer for `shape`.
  Tensor(DataType dtype, const TensorShape& shape, Allocator* allocator = CpuAllocator());
  // Wraps memory owned by `owner` (kept alive as long as any Tensor uses it).
  static Tensor Wrap(DataType dtype, const TensorShape& shape, std::shared_ptr<void> owner,
                     void* data);
  // A scalar of T.
  template <typename T>
  static Tensor Scalar(T value) {
    Tensor t(DataTypeToEnum<T>::value, TensorShape{});
    *t.data<T>() = value;
    return t;
  }
  // A vector of T.
  template <typename T>
  static Tensor Vector(absl::Span<const T> values) {
    Tensor t(DataTypeToEnum<T>::value, TensorShape{static_cast<int64_t>(values.size())});
    if (!values.empty()) std::memcpy(t.raw_data(), values.data(), values.size() * sizeof(T));
    return t;
  }

  // Decodes tensor_content or the typed value fields, repeating the last value to fill
  // the shape as TensorFlow does.
  static absl::StatusOr<Tensor> FromProto(const TensorProto& proto);
  // Writes tensor_content (compact and exact). A tensor in device memory writes its dtype
  // and shape only: copy it to the host first (DeviceBase::CopyToHost).
  void AsProto(TensorProto* proto) const;

  bool IsInitialized() const { return dtype_ != DT_INVALID; }
  // Whether the buffer is in host memory (its allocator's); data() of another tensor is a
  // device address that only that device's kernels and copies may use.
  bool on_host() const { return on_host_; }
  DataType dtype() const { return dtype_; }
  const TensorShape& shape() const { return shape_; }
  int dims() const { return shape_.dims(); }
  int64_t dim_size(int i) const { return shape_.dim_size(i); }
  int64_t NumElements() const { return num_elements_; }
  size_t TotalBytes() const { return static_cast<size_t>(num_elements_) * DataTypeSize(dtype_); }

  void* raw_data() const { return data_; }
  template <typename T>
  T* data() const {
    return static_cast<T*>(data_);
  }
  template <typename T>
  absl::Span<T> flat() const {
    return absl::Span<T>(data<T>(), num_elements_);
  }
  template <typename T>
  T scalar() const {
    return *data<T>();
  }

  // Same buffer, another shape with the same number of elements.
  absl::StatusOr<Tensor> Reshaped(const TensorShape& shape) const;
  // Rows [begin, end) along dim 0, sharing the buffer.
  Tensor Slice(int64_t begin, int64_t end) const;
  // True when no other Tensor shares the buffer, so a kernel may write into it.
  bool RefCountIsOne() const { return owner_ && owner_.use_count() == 1; }
  bool SharesBufferWith(const Tensor& other) const { return owner_ == other.owner_; }
  // A deep copy.
  Tensor Clone() const;
  // This tensor when no other Tensor shares its buffer, else a copy: what to hand a caller
  // who may write into it (a fetched constant must not change for later runs).
  Tensor Unshared() const { return RefCountIsOne() ? *this : Clone(); }

  // "float [2,3] 1 2 3 4 5 6", at most `max_entries` values.
  std::string DebugString(int max_entries = 6) const;

 private:
  DataType dtype_ = DT_INVALID;
  TensorShape shape_;
  int64_t num_elements_ = 0;
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  bool on_host_ = true;
};

}  // namespace runnel
