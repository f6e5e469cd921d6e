// TensorShape: the fully known shape of a tensor. PartialShape: what shape inference knows
// before running, with dims of unknown size (-1) or an unknown rank.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/proto/tensor_shape.pb.h"

namespace runnel {

using DimVector = absl::InlinedVector<int64_t, 4>;

class TensorShape {
 public:
  TensorShape() = default;  // a scalar
  TensorShape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit TensorShape(absl::Span<const int64_t> dims) : dims_(dims.begin(), dims.end()) {}

  // Fails on negative dims or unknown rank.
  static absl::StatusOr<TensorShape> FromProto(const TensorShapeProto& proto);
  static absl::StatusOr<TensorShape> FromDims(absl::Span<const int64_t> dims);
  void AsProto(TensorShapeProto* proto) const;

  int dims() const { return static_cast<int>(dims_.size()); }
  int64_t dim_size(int i) const { return dims_[i]; }
  absl::Span<const int64_t> dim_sizes() const { return dims_; }
  int64_t num_elements() const;

  void AddDim(int64_t size) { dims_.push_back(size); }
  void InsertDim(int i, int64_t size) { dims_.insert(dims_.begin() + i, size); }
  void RemoveDim(int i) { dims_.erase(dims_.begin() + i); }
  void set_dim(int i, int64_t size) { dims_[i] = size; }

  bool operator==(const TensorShape& other) const { return dims_ == other.dims_; }
  bool operator!=(const TensorShape& other) const { return dims_ != other.dims_; }
  // "[32,784]"; a scalar is "[]".
  std::string DebugString() const;

 private:
  DimVector dims_;
};

class PartialShape {
 public:
  static constexpr int64_t kUnknownDim = -1;

  PartialShape() = default;  // a scalar
  PartialShape(std::initializer_list<int64_t> dims) : dims_(dims) {}
  explicit PartialShape(absl::Span<const int64_t> dims) : dims_(dims.begin(), dims.end()) {}
  PartialShape(const TensorShape& shape)  // NOLINT: a known shape is a partial shape
      : dims_(shape.dim_sizes().begin(), shape.dim_sizes().end()) {}
  static PartialShape UnknownRank();
  static PartialShape UnknownWithRank(int rank);
  static PartialShape FromProto(const TensorShapeProto& proto);
  void AsProto(TensorShapeProto* proto) const;

  bool unknown_rank() const { return unknown_rank_; }
  // -1 when the rank is unknown.
  int rank() const { return unknown_rank_ ? -1 : static_cast<int>(dims_.size()); }
  int64_t dim(int i) const { return dims_[i]; }
  absl::Span<const int64_t> dims() const { return dims_; }
  bool IsFullyDefined() const;
  // Only valid when IsFullyDefined().
  TensorShape ToTensorShape() const { return TensorShape(dims_); }
  // Product of dims, -1 if any is unknown.
  int64_t num_elements() const;

  // True if some concrete shape could match both.
  bool IsCompatibleWith(const PartialShape& other) const;
  // The most specific shape compatible with both; fails when they are incompatible.
  absl::StatusOr<PartialShape> Merge(const PartialShape& other) const;

  void AddDim(int64_t size) { dims_.push_back(size); }
  void set_dim(int i, int64_t size) { dims_[i] = size; }
  bool operator==(const PartialShape& other) const {
    return unknown_rank_ == other.unknown_rank_ && dims_ == other.dims_;
  }
  // "[?,784]"; unknown rank is "<unknown>".
  std::string DebugString() const;

 private:
  bool unknown_rank_ = false;
  DimVector dims_;
};

}  // namespace runnel
