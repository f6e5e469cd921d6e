// TensorArray kernels (ops/data_flow/tensor_array_ops.cc). The array is the object its
// DT_RESOURCE handle points at, so it lives as long as a copy of the handle does: for the
// step that made it, as TensorFlow's per-step container. Elements are Tensors shared with
// the values written (a scatter's rows share the scattered tensor's buffer), so writing
// copies nothing; stacking and concatenating copy once into the output.
#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/kernel_registry.h"
#include "core/tensor.h"

namespace runnel {
namespace {

static_assert(sizeof(ResourceHandle) == 2 * sizeof(void*), "DataTypeSize(DT_RESOURCE)");

// Copies all of `src` into `dst` from element `offset` on (same dtype).
void CopyElements(const Tensor& src, Tensor* dst, int64_t offset) {
  if (src.dtype() == DT_STRING) {
    std::copy_n(src.data<std::string>(), src.NumElements(), dst->data<std::string>() + offset);
  } else if (src.TotalBytes() > 0) {
    std::memcpy(static_cast<char*>(dst->raw_data()) + offset * DataTypeSize(src.dtype()),
                src.raw_data(), src.TotalBytes());
  }
}

// a + b, elementwise, as a new tensor (a gradient array's second write to an element).
absl::StatusOr<Tensor> Sum(const Tensor& a, const Tensor& b) {
  Tensor sum(a.dtype(), a.shape());
  bool numeric = a.dtype() != DT_STRING && a.dtype() != DT_BOOL;
  if (numeric) {
    numeric = VisitDataType(a.dtype(), [&](auto zero) {
      using T = decltype(zero);
      const T* x = a.data<T>();
      const T* y = b.data<T>();
      T* out = sum.data<T>();
      for (int64_t i = 0; i < a.NumElements(); ++i) out[i] = static_cast<T>(x[i] + y[i]);
    });
  }
  if (!numeric) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot add up two writes of ", DataTypeString(a.dtype())));
  }
  return sum;
}

class TensorArray : public ResourceBase {
 public:
  struct Options {
    DataType dtype = DT_FLOAT;
    PartialShape element_shape = PartialShape::UnknownRank();
    bool dynamic_size = false;
    bool clear_after_read = true;
    bool identical_element_shapes = false;
    bool aggregate_writes = false;  // a gradient's array: writes to one element add up
  };
  TensorArray(std::string name, int64_t size, Options options)
      : name_(std::move(name)), options_(std::move(options)), elements_(size) {}

  std::string DebugString() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return absl::StrCat("TensorArray '", name_, "' of ", elements_.size(), " ",
                        DataTypeString(options_.dtype));
  }
  const std::string& name() const { return name_; }
  DataType dtype() const { return options_.dtype; }

  absl::Status Write(int64_t index, const Tensor& value) {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(CheckOpen());
    RN_REQUIRE(value.dtype() == options_.dtype, "TensorArray '", name_, "' holds ",
               DataTypeString(options_.dtype), ", cannot write ", DataTypeString(value.dtype()));
    RN_REQUIRE(index >= 0, "TensorArray '", name_, "': cannot write to index ", index);
    if (index >= static_cast<int64_t>(elements_.size())) {
      RN_REQUIRE(options_.dynamic_size, "TensorArray '", name_, "': cannot write to index ", index,
                 ": its size is ", elements_.size(), " and it is not dynamic_size");
      elements_.resize(index + 1);
    }
    const PartialShape shape(value.shape());
    RN_REQUIRE(options_.element_shape.IsCompatibleWith(shape), "TensorArray '", name_,
               "': cannot write a value of shape ", value.shape().DebugString(), " to index ",
               index, ": its elements have shape ", options_.element_shape.DebugString());
    if (options_.identical_element_shapes) options_.element_shape = shape;
    Element& e = elements_[index];
    if (e.written) {
      RN_REQUIRE(options_.aggregate_writes && !e.cleared, "TensorArray '", name_, "': index ",
                 index, " was written already");
      RN_REQUIRE(e.value.shape() == value.shape(), "TensorArray '", name_, "': index ", index,
                 " holds shape ", e.value.shape().DebugString(), ", cannot add shape ",
                 value.shape().DebugString());
      ASSIGN_OR_RETURN(e.value, Sum(e.value, value));
      return absl::OkStatus();
    }
    e.value = value;
    e.shape = value.shape();
    e.written = true;
    return absl::OkStatus();
  }

  absl::StatusOr<Tensor> Read(int64_t index) {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(CheckOpen());
    return ReadLocked(index);
  }

  // The elements at `indices`, read as by Read.
  absl::StatusOr<std::vector<Tensor>> ReadMany(absl::Span<const int32_t> indices) {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(CheckOpen());
    std::vector<Tensor> values;
    values.reserve(indices.size());
    for (int32_t index : indices) {
      ASSIGN_OR_RETURN(Tensor value, ReadLocked(index));
      values.push_back(std::move(value));
    }
    return values;
  }

  absl::StatusOr<int64_t> Size() {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(CheckOpen());
    return static_cast<int64_t>(elements_.size());
  }

  // Grows the array to `size` elements where it may, else checks it has that many.
  absl::Status Reserve(int64_t size, const char* what) {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(CheckOpen());
    if (size <= static_cast<int64_t>(elements_.size())) return absl::OkStatus();
    RN_REQUIRE(options_.dynamic_size, "TensorArray '", name_, "': ", what, " needs ", size,
               " elements, it has ", elements_.size(), " and is not dynamic_size");
    elements_.resize(size);
    return absl::OkStatus();
  }

  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    elements_.clear();
    grads_.clear();
  }

  // The gradient's array for `source`: made on first use, as many elements as this one.
  absl::StatusOr<ResourceHandle> Grad(const std::string& source) {
    std::lock_guard<std::mutex> lock(mu_);
    RETURN_IF_ERROR(CheckOpen());
    ResourceHandle& grad = grads_[source];
    if (grad == nullptr) {
      Options options = options_;
      options.dynamic_size = false;
      options.clear_after_read = false;
      options.aggregate_writes = true;
      auto array = std::make_shared<TensorArray>(absl::StrCat(name_, "@", source), elements_.size(),
                                                 options);
      // An element the gradient never writes reads as zeros of its forward value's shape.
      for (size_t i = 0; i < elements_.size(); ++i) array->elements_[i].shape = elements_[i].shape;
      grad = std::move(array);
    }
    return grad;
  }

 private:
  struct Element {
    Tensor value;
    std::optional<TensorShape> shape;  // of the value written (kept after a clearing read)
    bool written = false;
    bool cleared = false;  // read once with clear_after_read
  };

  absl::Status CheckOpen() const {
    RN_REQUIRE(!closed_, "TensorArray '", name_, "' was closed");
    return absl::OkStatus();
  }

  absl::StatusOr<Tensor> ReadLocked(int64_t index) {
    RN_REQUIRE(index >= 0 && index < static_cast<int64_t>(elements_.size()), "TensorArray '", name_,
               "': cannot read index ", index, ": its size is ", elements_.size());
    Element& e = elements_[index];
    RN_REQUIRE(!e.cleared, "TensorArray '", name_, "': cannot read index ", index,
               " twice: it was cleared after its first read (clear_after_read=False keeps it)");
    if (!e.written) {
      RN_REQUIRE(e.shape || options_.element_shape.IsFullyDefined(), "TensorArray '", name_,
                 "': cannot read index ", index, ": it was never written and the element shape ",
                 options_.element_shape.DebugString(), " is not fully known");
      Tensor zeros(options_.dtype, e.shape ? *e.shape : options_.element_shape.ToTensorShape());
      if (options_.dtype != DT_STRING) std::memset(zeros.raw_data(), 0, zeros.TotalBytes());
      return zeros;
    }
    Tensor value = e.value;
    if (options_.clear_after_read) {
      e.value = Tensor();
      e.cleared = true;
    }
    return value;
  }

  const std::string name_;
  Options options_;
  mutable std::mutex mu_;
  std::vector<Element> elements_;
  std::map<std::string, ResourceHandle> grads_;
  bool closed_ = false;
};

// The TensorArray that input `index` (a DT_RESOURCE handle) points at.
absl::StatusOr<TensorArray*> GetArray(OpKernelContext* ctx, int index) {
  const Tensor& handle = ctx->input(index);
  RN_REQUIRE(handle.dtype() == DT_RESOURCE && handle.NumElements() == 1, "input ", index,
             " is not a TensorArray handle");
  auto* array = dynamic_cast<TensorArray*>(handle.data<ResourceHandle>()[0].get());
  RN_REQUIRE(array != nullptr, "input ", index, " is not a TensorArray handle");
  return array;
}

absl::Status CheckDtype(const TensorArray& array, DataType dtype) {
  RN_REQUIRE(array.dtype() == dtype, "TensorArray '", array.name(), "' holds ",
             DataTypeString(array.dtype()), ", the op asks for ", DataTypeString(dtype));
  return absl::OkStatus();
}

absl::Status RequireScalar(const Tensor& t, const char* what) {
  RN_REQUIRE(t.dims() == 0, what, " must be a scalar, got shape ", t.shape().DebugString());
  return absl::OkStatus();
}

// Stacks `values` (all of one shape) into [n] + shape, or [0] + element_shape when n is 0.
absl::Status Stack(OpKernelContext* ctx, const TensorArray& array,
                   const std::vector<Tensor>& values, const PartialShape& element_shape) {
  TensorShape shape;
  if (values.empty()) {
    RN_REQUIRE(element_shape.IsFullyDefined(), "TensorArray '", array.name(),
               "': cannot gather no elements when the element shape ", element_shape.DebugString(),
               " is not fully known");
    shape = element_shape.ToTensorShape();
  } else {
    shape = values[0].shape();
  }
  TensorShape out_shape{static_cast<int64_t>(values.size())};
  for (int64_t d : shape.dim_sizes()) out_shape.AddDim(d);
  Tensor* out = nullptr;
  RETURN_IF_ERROR(ctx->allocate_output(0, out_shape, &out));
  for (size_t i = 0; i < values.size(); ++i) {
    RN_REQUIRE(values[i].shape() == shape, "TensorArray '", array.name(),
               "': cannot stack elements of shapes ", shape.DebugString(), " and ",
               values[i].shape().DebugString());
    CopyElements(values[i], out, static_cast<int64_t>(i) * shape.num_elements());
  }
  return absl::OkStatus();
}

class TensorArrayOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("dtype", &options_.dtype));
    RETURN_IF_ERROR(ctx->GetAttr("element_shape", &options_.element_shape));
    RETURN_IF_ERROR(ctx->GetAttr("dynamic_size", &options_.dynamic_size));
    RETURN_IF_ERROR(ctx->GetAttr("clear_after_read", &options_.clear_after_read));
    RETURN_IF_ERROR(ctx->GetAttr("identical_element_shapes", &options_.identical_element_shapes));
    RETURN_IF_ERROR(ctx->GetAttr("tensor_array_name", &name_));
    if (name_.empty()) name_ = ctx->def().name();
    return absl::OkStatus();
  }
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    RETURN_IF_ERROR(RequireScalar(ctx->input(0), "size"));
    const int32_t size = ctx->input(0).scalar<int32_t>();
    RN_REQUIRE(size >= 0, "a TensorArray's size must not be negative, got ", size);
    Tensor handle(DT_RESOURCE, TensorShape{});
    handle.data<ResourceHandle>()[0] = std::make_shared<TensorArray>(name_, size, options_);
    ctx->set_output(0, std::move(handle));
    ctx->set_output(1, Tensor::Scalar<float>(0));
    return absl::OkStatus();
  }

 private:
  TensorArray::Options options_;
  std::string name_;
};

class WriteOp : public OpKernel {
 public:
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    RETURN_IF_ERROR(RequireScalar(ctx->input(1), "index"));
    RETURN_IF_ERROR(array->Write(ctx->input(1).scalar<int32_t>(), ctx->input(2)));
    ctx->set_output(0, ctx->input(3));
    return absl::OkStatus();
  }
};

class ReadOp : public OpKernel {
 public:
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    RETURN_IF_ERROR(CheckDtype(*array, output_types()[0]));
    RETURN_IF_ERROR(RequireScalar(ctx->input(1), "index"));
    ASSIGN_OR_RETURN(Tensor value, array->Read(ctx->input(1).scalar<int32_t>()));
    ctx->set_output(0, std::move(value));
    return absl::OkStatus();
  }
};

class GatherOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    return ctx->GetAttr("element_shape", &element_shape_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    RETURN_IF_ERROR(CheckDtype(*array, output_types()[0]));
    const Tensor& indices = ctx->input(1);
    RN_REQUIRE(indices.dims() == 1, "indices must be a vector, got shape ",
               indices.shape().DebugString());
    ASSIGN_OR_RETURN(
        std::vector<Tensor> values,
        array->ReadMany({indices.data<int32_t>(), static_cast<size_t>(indices.NumElements())}));
    return Stack(ctx, *array, values, element_shape_);
  }

 private:
  PartialShape element_shape_;
};

class ScatterOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    const Tensor& indices = ctx->input(1);
    const Tensor& value = ctx->input(2);
    RN_REQUIRE(indices.dims() == 1, "indices must be a vector, got shape ",
               indices.shape().DebugString());
    RN_REQUIRE(value.dims() >= 1 && value.dim_size(0) == indices.NumElements(), "a scatter of ",
               indices.NumElements(),
               " indices needs a value of as many rows, "
               "got shape ",
               value.shape().DebugString());
    const int32_t* index = indices.data<int32_t>();
    int32_t largest = -1;
    for (int64_t i = 0; i < indices.NumElements(); ++i) largest = std::max(largest, index[i]);
    RETURN_IF_ERROR(array->Reserve(static_cast<int64_t>(largest) + 1, "a scatter"));
    TensorShape row_shape = value.shape();
    row_shape.RemoveDim(0);
    for (int64_t i = 0; i < indices.NumElements(); ++i) {
      ASSIGN_OR_RETURN(Tensor row, value.Slice(i, i + 1).Reshaped(row_shape));
      RETURN_IF_ERROR(array->Write(index[i], row));
    }
    ctx->set_output(0, ctx->input(3));
    return absl::OkStatus();
  }
};

class ConcatOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    RETURN_IF_ERROR(CheckDtype(*array, output_types()[0]));
    ASSIGN_OR_RETURN(int64_t size, array->Size());
    std::vector<int32_t> all(size);
    for (int64_t i = 0; i < size; ++i) all[i] = static_cast<int32_t>(i);
    ASSIGN_OR_RETURN(std::vector<Tensor> values, array->ReadMany(all));
    Tensor lengths(DT_INT64, TensorShape{size});
    int64_t rows = 0;
    for (int64_t i = 0; i < size; ++i) {
      const Tensor& v = values[i];
      RN_REQUIRE(v.dims() >= 1, "TensorArray '", array->name(), "': cannot concatenate element ", i,
                 " of shape ", v.shape().DebugString());
      RN_REQUIRE(v.dims() == values[0].dims() &&
                     std::equal(v.shape().dim_sizes().begin() + 1, v.shape().dim_sizes().end(),
                                values[0].shape().dim_sizes().begin() + 1),
                 "TensorArray '", array->name(), "': cannot concatenate elements of shapes ",
                 values[0].shape().DebugString(), " and ", v.shape().DebugString());
      lengths.data<int64_t>()[i] = v.dim_size(0);
      rows += v.dim_size(0);
    }
    RN_REQUIRE(size > 0, "TensorArray '", array->name(), "': cannot concatenate no elements");
    TensorShape shape = values[0].shape();
    shape.set_dim(0, rows);
    Tensor* out = nullptr;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    int64_t offset = 0;
    for (const Tensor& v : values) {
      CopyElements(v, out, offset);
      offset += v.NumElements();
    }
    ctx->set_output(1, std::move(lengths));
    return absl::OkStatus();
  }
};

class SplitOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    const Tensor& value = ctx->input(1);
    const Tensor& lengths = ctx->input(2);
    RN_REQUIRE(lengths.dims() == 1, "lengths must be a vector, got shape ",
               lengths.shape().DebugString());
    RN_REQUIRE(value.dims() >= 1, "a split needs a value of rank 1 or more, got shape ",
               value.shape().DebugString());
    const int64_t* length = lengths.data<int64_t>();
    int64_t total = 0;
    for (int64_t i = 0; i < lengths.NumElements(); ++i) {
      RN_REQUIRE(length[i] >= 0, "lengths must not be negative, got ", length[i]);
      total += length[i];
    }
    RN_REQUIRE(total == value.dim_size(0), "lengths add up to ", total, ", the value has ",
               value.dim_size(0), " rows");
    RETURN_IF_ERROR(array->Reserve(lengths.NumElements(), "a split"));
    int64_t begin = 0;
    for (int64_t i = 0; i < lengths.NumElements(); ++i) {
      RETURN_IF_ERROR(array->Write(i, value.Slice(begin, begin + length[i])));
      begin += length[i];
    }
    ctx->set_output(0, ctx->input(3));
    return absl::OkStatus();
  }
};

class SizeOp : public OpKernel {
 public:
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    ASSIGN_OR_RETURN(int64_t size, array->Size());
    ctx->set_output(0, Tensor::Scalar<int32_t>(static_cast<int32_t>(size)));
    return absl::OkStatus();
  }
};

class CloseOp : public OpKernel {
 public:
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    array->Close();
    return absl::OkStatus();
  }
};

class GradOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override { return ctx->GetAttr("source", &source_); }
  bool IsExpensive() const override { return false; }
  absl::Status Compute(OpKernelContext* ctx) override {
    ASSIGN_OR_RETURN(TensorArray * array, GetArray(ctx, 0));
    Tensor handle(DT_RESOURCE, TensorShape{});
    ASSIGN_OR_RETURN(handle.data<ResourceHandle>()[0], array->Grad(source_));
    ctx->set_output(0, std::move(handle));
    ctx->set_output(1, ctx->input(1));
    return absl::OkStatus();
  }

 private:
  std::string source_;
};

REGISTER_KERNEL(KernelDefBuilder("TensorArrayV3").Device(kCpu).AllowStrings(), TensorArrayOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArrayWriteV3").Device(kCpu).AllowStrings(), WriteOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArrayReadV3").Device(kCpu).AllowStrings(), ReadOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArrayGatherV3").Device(kCpu).AllowStrings(), GatherOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArrayScatterV3").Device(kCpu).AllowStrings(), ScatterOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArrayConcatV3").Device(kCpu).AllowStrings(), ConcatOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArraySplitV3").Device(kCpu).AllowStrings(), SplitOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArraySizeV3").Device(kCpu).AllowStrings(), SizeOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArrayCloseV3").Device(kCpu).AllowStrings(), CloseOp);
REGISTER_KERNEL(KernelDefBuilder("TensorArrayGradV3").Device(kCpu).AllowStrings(), GradOp);

}  // namespace
}  // namespace runnel
