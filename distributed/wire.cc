#include "distributed/wire.h"

#include <cstdint>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/status.h"

namespace runnel {
namespace {

absl::StatusOr<Tensor> DecodeTensor(const TensorMeta& meta, Frame frame, int index,
                                    const WireLimits& limits) {
  const std::string what = absl::StrCat("tensor ", index, " of the message");
  if (meta.is_dead()) {
    if (frame.size != 0)
      return absl::InvalidArgumentError(absl::StrCat(what, " is dead but has data"));
    return Tensor();
  }
  const DataType dtype = meta.dtype();
  if (!DataType_IsValid(dtype) || dtype == DT_INVALID || IsRefType(dtype) ||
      (dtype != DT_STRING && DataTypeSize(dtype) == 0)) {
    return absl::InvalidArgumentError(absl::StrCat(what, " has unsupported dtype ", dtype));
  }
  if (meta.shape().dim_size() > limits.max_rank) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " has rank ", meta.shape().dim_size(), ", more than ", limits.max_rank));
  }
  ASSIGN_OR_RETURN(TensorShape shape, TensorShape::FromProto(meta.shape()));
  if (dtype == DT_STRING) {
    if (frame.size != 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, " is a string tensor with a data frame"));
    }
    ASSIGN_OR_RETURN(Tensor value, Tensor::FromProto(meta.strings()));
    if (value.dtype() != DT_STRING || value.shape() != shape) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "'s strings do not match its dtype and shape ", shape.DebugString()));
    }
    return value;
  }
  // FromProto bounds the element count by 2^62; the byte count must fit too.
  const uint64_t elements = static_cast<uint64_t>(shape.num_elements());
  const uint64_t element_size = static_cast<uint64_t>(DataTypeSize(dtype));
  if (elements > limits.max_tensor_bytes / element_size) {
    return absl::InvalidArgumentError(absl::StrCat(what, " of shape ", shape.DebugString(),
                                                   " is larger than ", limits.max_tensor_bytes,
                                                   " bytes"));
  }
  if (elements * element_size != frame.size) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " of dtype ", DataTypeString(dtype), " and shape ", shape.DebugString(),
                     " needs ", elements * element_size, " bytes, but its frame has ", frame.size));
  }
  // A frame aligned for its elements becomes the buffer (ZeroMQ's large messages sit 8
  // bytes past a 16-byte boundary); another is copied.
  if (reinterpret_cast<uintptr_t>(frame.data) % element_size == 0 && frame.owner) {
    return Tensor::Wrap(dtype, shape, std::move(frame.owner), const_cast<void*>(frame.data));
  }
  Tensor copy(dtype, shape);
  if (frame.size > 0) std::memcpy(copy.raw_data(), frame.data, frame.size);
  return copy;
}

}  // namespace

absl::StatusOr<EncodedMessage> Encode(Message message) {
  EncodedMessage out;
  message.envelope.clear_tensors();
  for (size_t i = 0; i < message.tensors.size(); ++i) {
    Tensor& tensor = message.tensors[i];
    TensorMeta* meta = message.envelope.add_tensors();
    if (message.dead(i)) {
      meta->set_is_dead(true);
      out.tensors.emplace_back();
      continue;
    }
    if (!tensor.IsInitialized()) {
      return absl::InternalError(absl::StrCat("tensor ", i, " to send has no value"));
    }
    if (!tensor.on_host()) {
      return absl::InternalError(absl::StrCat("tensor ", i, " to send is in device memory"));
    }
    meta->set_dtype(tensor.dtype());
    tensor.shape().AsProto(meta->mutable_shape());
    if (tensor.dtype() == DT_STRING) {
      tensor.AsProto(meta->mutable_strings());
      out.tensors.emplace_back();
    } else {
      out.tensors.push_back(std::move(tensor));
    }
  }
  if (!message.envelope.SerializeToString(&out.envelope)) {
    return absl::InternalError("the message envelope could not be serialized (over 2 GiB?)");
  }
  return out;
}

absl::StatusOr<Message> Decode(std::vector<Frame> frames, const WireLimits& limits) {
  if (frames.empty()) return absl::InvalidArgumentError("empty message");
  if (frames[0].size > limits.max_envelope_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("message envelope of ", frames[0].size,
                                                   " bytes is larger than the limit of ",
                                                   limits.max_envelope_bytes));
  }
  Message message;
  if (!message.envelope.ParseFromArray(frames[0].data, static_cast<int>(frames[0].size))) {
    return absl::InvalidArgumentError("message envelope does not parse");
  }
  const int num_tensors = message.envelope.tensors_size();
  if (num_tensors > limits.max_tensors) {
    return absl::InvalidArgumentError(
        absl::StrCat("message carries ", num_tensors, " tensors, more than ", limits.max_tensors));
  }
  if (frames.size() != static_cast<size_t>(num_tensors) + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "message describes ", num_tensors, " tensors but has ", frames.size() - 1, " data frames"));
  }
  message.tensors.reserve(num_tensors);
  message.is_dead.reserve(num_tensors);
  for (int i = 0; i < num_tensors; ++i) {
    const TensorMeta& meta = message.envelope.tensors(i);
    ASSIGN_OR_RETURN(Tensor value, DecodeTensor(meta, std::move(frames[i + 1]), i, limits));
    message.tensors.push_back(std::move(value));
    message.is_dead.push_back(meta.is_dead());
  }
  return message;
}

absl::Status MakeStatus(int code, const std::string& message) {
  if (code == 0) return absl::OkStatus();
  const bool known = code > 0 && code <= static_cast<int>(absl::StatusCode::kUnauthenticated);
  return absl::Status(known ? static_cast<absl::StatusCode>(code) : absl::StatusCode::kUnknown,
                      message);
}

absl::Status StatusOf(const Envelope& envelope) {
  return MakeStatus(envelope.status_code(), envelope.status_message());
}

void SetStatus(const absl::Status& status, Envelope* envelope) {
  envelope->set_status_code(static_cast<int>(status.code()));
  envelope->set_status_message(std::string(status.message()));
}

}  // namespace runnel
