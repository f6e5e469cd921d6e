// ReadFile (a file's bytes as a string scalar) and DecodeRaw (strings' bytes as numbers).
#include <algorithm>
#include <cstring>
#include <utility>

#include "core/file_util.h"
#include "core/kernel_registry.h"

namespace runnel {
namespace {

class ReadFileOp : public OpKernel {
 public:
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& name = ctx->input(0);
    RN_REQUIRE(name.dims() == 0, "filename must be a scalar, got shape ",
               name.shape().DebugString());
    ASSIGN_OR_RETURN(std::string contents, ReadFileToString(*name.data<std::string>()));
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, TensorShape{}, &out));
    *out->data<std::string>() = std::move(contents);
    return absl::OkStatus();
  }
};

class DecodeRawOp : public OpKernel {
 public:
  absl::Status Init(OpKernelConstruction* ctx) override {
    RETURN_IF_ERROR(ctx->GetAttr("out_type", &type_));
    return ctx->GetAttr("little_endian", &little_endian_);
  }
  absl::Status Compute(OpKernelContext* ctx) override {
    const Tensor& in = ctx->input(0);
    const std::string* strings = in.data<std::string>();
    const int64_t size = DataTypeSize(type_);
    const int64_t length = in.NumElements() > 0 ? static_cast<int64_t>(strings[0].size()) : 0;
    for (int64_t i = 0; i < in.NumElements(); ++i) {
      RN_REQUIRE(static_cast<int64_t>(strings[i].size()) == length,
                 "every string must have the same length: element 0 has ", length,
                 " bytes, element ", i, " has ", strings[i].size());
    }
    RN_REQUIRE(length % size == 0, "a string of ", length, " bytes is no whole number of ",
               DataTypeString(type_), " values (", size, " bytes each)");
    TensorShape shape = in.shape();
    shape.AddDim(length / size);
    Tensor* out;
    RETURN_IF_ERROR(ctx->allocate_output(0, shape, &out));
    char* dst = static_cast<char*>(out->raw_data());
    for (int64_t i = 0; i < in.NumElements(); ++i) {
      std::memcpy(dst + i * length, strings[i].data(), length);
    }
    if (!little_endian_ && size > 1) {  // this machine is little-endian: swap each value
      for (int64_t v = 0; v < out->NumElements(); ++v) {
        std::reverse(dst + v * size, dst + (v + 1) * size);
      }
    }
    return absl::OkStatus();
  }

 private:
  DataType type_ = DT_FLOAT;
  bool little_endian_ = true;
};

REGISTER_KERNEL(KernelDefBuilder("ReadFile").Device(kCpu).AllowStrings(), ReadFileOp);
REGISTER_KERNEL(KernelDefBuilder("DecodeRaw").Device(kCpu).AllowStrings(), DecodeRawOp);

}  // namespace
}  // namespace runnel
