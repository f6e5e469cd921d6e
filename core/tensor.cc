#include "core/tensor.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace runnel {

Tensor::Tensor(DataType dtype, const TensorShape& shape, Allocator* allocator)
    : dtype_(dtype), shape_(shape), num_elements_(shape.num_elements()) {
  if (dtype == DT_STRING) {  // constructed, and destroyed, element by element
    auto* strings = new std::string[std::max<int64_t>(num_elements_, 1)];
    owner_ = std::shared_ptr<void>(strings, [](void* p) { delete[] static_cast<std::string*>(p); });
    data_ = strings;
    return;
  }
  if (dtype == DT_RESOURCE) {  // handles: shared pointers, released element by element
    auto* handles = new ResourceHandle[std::max<int64_t>(num_elements_, 1)];
    owner_ =
        std::shared_ptr<void>(handles, [](void* p) { delete[] static_cast<ResourceHandle*>(p); });
    data_ = handles;
    return;
  }
  on_host_ = allocator->HostMemory();
  size_t bytes = TotalBytes();
  void* ptr = allocator->Allocate(bytes);
  if (ptr == nullptr) {
    std::string message =
        absl::StrCat("out of memory: ", bytes, " bytes asked of ", allocator->Name());
    if (std::optional<AllocatorStats> stats = allocator->Stats()) {
      absl::StrAppend(&message, ", which holds ", stats->bytes_in_use, " bytes in use of ",
                      stats->bytes_limit, " (largest allocation ", stats->largest_alloc_size, ")");
    }
    throw OutOfMemory(std::move(message));
  }
  owner_ =
      std::shared_ptr<void>(ptr, [allocator, bytes](void* p) { allocator->Deallocate(p, bytes); });
  data_ = ptr;
}

Tensor Tensor::Wrap(DataType dtype, const TensorShape& shape, std::shared_ptr<void> owner,
                    void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.num_elements_ = shape.num_elements();
  t.owner_ = std::move(owner);
  t.data_ = data;
  return t;
}

namespace {

// Fills `n` elements of `out` from `values`, repeating the last value (TensorFlow's rule
// for compact constants such as a zero-filled tensor stored as one value).
template <typename T, typename Repeated>
absl::Status FillFromRepeated(const Repeated& values, int64_t n, T* out) {
  if (n == 0) return absl::OkStatus();
  if (values.empty()) {
    std::memset(out, 0, n * sizeof(T));
    return absl::OkStatus();
  }
  if (values.size() > n) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor proto has ", values.size(), " values but its shape holds ", n));
  }
  int64_t i = 0;
  for (auto v : values) out[i++] = static_cast<T>(v);
  for (; i < n; ++i) out[i] = out[values.size() - 1];
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Tensor> Tensor::FromProto(const TensorProto& proto) {
  ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromProto(proto.tensor_shape()));
  DataType dtype = proto.dtype();
  // A resource handle points at an object in this process: no proto can carry one in.
  if (DataTypeSize(dtype) == 0 || IsRefType(dtype) || dtype == DT_RESOURCE) {
    return absl::UnimplementedError(
        absl::StrCat("tensors of dtype ", DataTypeString(dtype), " are not supported"));
  }
  // Everything the proto says is checked before anything is allocated: a hostile shape
  // must give an error, not an attempt at an exabyte.
  const int64_t n = shape.num_elements();
  const int64_t element_size = static_cast<int64_t>(DataTypeSize(dtype));
  if (n > std::numeric_limits<int64_t>::max() / element_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor proto of shape ", shape.DebugString(), " is too large to hold"));
  }
  if (dtype == DT_STRING &&
      (proto.string_val_size() > n || (proto.string_val_size() == 0 && n > 0))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "string tensor proto has ", proto.string_val_size(), " values but its shape holds ", n));
  }
  const bool has_content = dtype != DT_STRING && !proto.tensor_content().empty();
  if (has_content && static_cast<int64_t>(proto.tensor_content().size()) != n * element_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor proto of dtype ", DataTypeString(dtype), " and shape ", shape.DebugString(),
        " needs ", n * element_size, " bytes of content, has ", proto.tensor_content().size()));
  }
  // A proto holds at most 2 GiB (protobuf's limit), and so may the tensor it decodes to: a
  // few bytes repeating one value over a huge shape would otherwise fill the memory.
  // Strings count their bytes too, the last value once for each element it fills.
  constexpr int64_t kMaxTensorProtoBytes = int64_t{1} << 31;
  int64_t bytes = n * element_size;
  if (dtype == DT_STRING && n > 0) {
    for (const std::string& value : proto.string_val()) bytes += value.size();
    const int64_t last = proto.string_val(proto.string_val_size() - 1).size();
    const int64_t repeats = n - proto.string_val_size();
    bytes = last > 0 && repeats > kMaxTensorProtoBytes / last ? kMaxTensorProtoBytes + 1
                                                              : bytes + repeats * last;
  }
  if (bytes > kMaxTensorProtoBytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "tensor proto of dtype ", DataTypeString(dtype), " and shape ", shape.DebugString(),
        " would take more than 2 GiB, the most a tensor read from a proto may take"));
  }
  Tensor t;
  try {
    t = Tensor(dtype, shape);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(absl::StrCat("out of memory for a tensor proto of dtype ",
                                                     DataTypeString(dtype), " and shape ",
                                                     shape.DebugString()));
  }
  if (dtype == DT_STRING) {
    const auto& values = proto.string_val();
    for (int64_t i = 0; i < n; ++i) {
      t.data<std::string>()[i] = values[std::min<int64_t>(i, values.size() - 1)];
    }
    return t;
  }
  if (has_content) {
    std::memcpy(t.raw_data(), proto.tensor_content().data(), t.TotalBytes());
    return t;
  }
  absl::Status status;
  switch (dtype) {
    case DT_FLOAT:
      status = FillFromRepeated(proto.float_val(), n, t.data<float>());
      break;
    case DT_DOUBLE:
      status = FillFromRepeated(proto.double_val(), n, t.data<double>());
      break;
    case DT_INT32:
      status = FillFromRepeated(proto.int_val(), n, t.data<int32_t>());
      break;
    case DT_INT16:
      status = FillFromRepeated(proto.int_val(), n, t.data<int16_t>());
      break;
    case DT_INT8:
      status = FillFromRepeated(proto.int_val(), n, t.data<int8_t>());
      break;
    case DT_UINT8:
      status = FillFromRepeated(proto.int_val(), n, t.data<uint8_t>());
      break;
    case DT_UINT16:
      status = FillFromRepeated(proto.int_val(), n, t.data<uint16_t>());
      break;
    case DT_INT64:
      status = FillFromRepeated(proto.int64_val(), n, t.data<int64_t>());
      break;
    case DT_BOOL:
      status = FillFromRepeated(proto.bool_val(), n, t.data<bool>());
      break;
    case DT_HALF:
    case DT_BFLOAT16:
      status = FillFromRepeated(proto.half_val(), n, t.data<uint16_t>());
      break;
    case DT_UINT32:
      status = FillFromRepeated(proto.uint32_val(), n, t.data<uint32_t>());
      break;
    case DT_UINT64:
      status = FillFromRepeated(proto.uint64_val(), n, t.data<uint64_t>());
      break;
    default:
      return absl::UnimplementedError(
          absl::StrCat("cannot decode tensor proto of dtype ", DataTypeString(dtype)));
  }
  RETURN_IF_ERROR(status);
  return t;
}

void Tensor::AsProto(TensorProto* proto) const {
  proto->Clear();
  proto->set_dtype(dtype_);
  shape_.AsProto(proto->mutable_tensor_shape());
  if (!on_host_) return;  // no host code reads device memory (see the header)
  if (dtype_ == DT_STRING) {
    for (int64_t i = 0; i < num_elements_; ++i) proto->add_string_val(data<std::string>()[i]);
    return;
  }
  if (dtype_ == DT_RESOURCE) return;  // a handle is meaningful only in this process
  proto->set_tensor_content(static_cast<const char*>(data_), TotalBytes());
}

absl::StatusOr<Tensor> Tensor::Reshaped(const TensorShape& shape) const {
  if (shape.num_elements() != num_elements_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot reshape a tensor of shape ", shape_.DebugString(), " into ", shape.DebugString()));
  }
  Tensor t = *this;
  t.shape_ = shape;
  return t;
}

Tensor Tensor::Slice(int64_t begin, int64_t end) const {
  Tensor t = *this;
  int64_t row_elements = shape_.dim_size(0) == 0 ? 0 : num_elements_ / shape_.dim_size(0);
  t.shape_.set_dim(0, end - begin);
  t.num_elements_ = row_elements * (end - begin);
  t.data_ = static_cast<char*>(data_) + begin * row_elements * DataTypeSize(dtype_);
  return t;
}

Tensor Tensor::Clone() const {
  Tensor t(dtype_, shape_);
  if (dtype_ == DT_STRING) {
    std::copy_n(data<std::string>(), num_elements_, t.data<std::string>());
  } else if (dtype_ == DT_RESOURCE) {
    std::copy_n(data<ResourceHandle>(), num_elements_, t.data<ResourceHandle>());
  } else if (TotalBytes() > 0) {
    std::memcpy(t.raw_data(), data_, TotalBytes());
  }
  return t;
}

std::string Tensor::DebugString(int max_entries) const {
  if (!IsInitialized()) return "<uninitialized tensor>";
  std::string out = absl::StrCat(DataTypeString(dtype_), " ", shape_.DebugString());
  if (!on_host_) return out + " (in device memory)";
  int64_t shown = std::min<int64_t>(num_elements_, max_entries);
  if (dtype_ == DT_RESOURCE) {
    for (int64_t i = 0; i < shown; ++i) {
      const ResourceHandle& handle = data<ResourceHandle>()[i];
      absl::StrAppend(&out, " ", handle ? handle->DebugString() : "<empty handle>");
    }
    return out;
  }
  VisitDataType(dtype_, [&](auto zero) {
    using T = decltype(zero);
    for (int64_t i = 0; i < shown; ++i) {
      absl::StrAppend(&out, " ");
      if constexpr (sizeof(T) == 1 && !std::is_same_v<T, bool>) {
        absl::StrAppend(&out, static_cast<int>(data<T>()[i]));
      } else {
        absl::StrAppend(&out, data<T>()[i]);
      }
    }
  });
  if (shown < num_elements_) absl::StrAppend(&out, " ...");
  return out;
}

}  // namespace runnel
