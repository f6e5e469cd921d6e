// libFuzzer target over TensorProto decoding (core/tensor.h): any bytes that parse as a
// TensorProto become a Tensor or an error (a shape, dtype or content that does not fit),
// and a Tensor encodes back to a proto that decodes to the same bytes.
#include <cstdint>
#include <cstring>

#include "core/proto/tensor.pb.h"
#include "core/tensor.h"
#include "google/protobuf/stubs/logging.h"

// Bad UTF-8 in a string field is logged by protobuf, then the parse fails: keep it quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  runnel::TensorProto proto;
  if (!proto.ParseFromArray(data, static_cast<int>(size))) return 0;
  // Shapes of more than 2^22 elements are left to the unit tests of the 2 GiB limit: below
  // it, filling them only measures memset (and ASan's std::string) speed.
  auto shape = runnel::TensorShape::FromProto(proto.tensor_shape());
  if (shape.ok() && shape->num_elements() > (1 << 22)) return 0;
  auto tensor = runnel::Tensor::FromProto(proto);
  if (!tensor.ok()) return 0;
  runnel::TensorProto again;
  tensor->AsProto(&again);
  auto back = runnel::Tensor::FromProto(again);
  if (!back.ok() || back->dtype() != tensor->dtype() || back->shape() != tensor->shape()) {
    __builtin_trap();  // a Tensor's own proto must decode to it
  }
  if (tensor->dtype() == runnel::DT_STRING) {
    for (int64_t i = 0; i < tensor->NumElements(); ++i) {
      if (back->data<std::string>()[i] != tensor->data<std::string>()[i]) __builtin_trap();
    }
  } else if (tensor->dtype() != runnel::DT_RESOURCE && tensor->TotalBytes() > 0 &&
             std::memcmp(back->raw_data(), tensor->raw_data(), tensor->TotalBytes()) != 0) {
    __builtin_trap();
  }
  return 0;
}
