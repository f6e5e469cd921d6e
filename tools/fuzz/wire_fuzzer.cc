// libFuzzer target over the worker protocol's message decoder (distributed/wire.h): any
// bytes, cut into frames, must decode or fail with an error, never crash or over-read.
// The input: one byte, the frame count (mod 8), then each frame as a 16-bit little-endian
// length and its bytes. `tools/fuzz.sh wire_fuzzer` runs it under libFuzzer;
// tests/distributed/wire_fuzz_test.cc runs it on generated inputs in every test run.
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "distributed/wire.h"
#include "google/protobuf/stubs/logging.h"

// Bad UTF-8 in a string field is logged by protobuf, then the parse fails: keep it quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t count = data[0] % 8;
  size_t at = 1;
  std::vector<runnel::Frame> frames;
  for (size_t i = 0; i < count && at + 2 <= size; ++i) {
    size_t length = data[at] | (static_cast<size_t>(data[at + 1]) << 8);
    at += 2;
    length = std::min(length, size - at);
    // Each frame in its own allocation, so the sanitizer sees any read past its end.
    std::shared_ptr<uint8_t> copy(new uint8_t[length + 1], std::default_delete<uint8_t[]>());
    if (length > 0) std::memcpy(copy.get(), data + at, length);
    frames.push_back(runnel::Frame{copy.get(), length, copy});
    at += length;
  }
  runnel::WireLimits limits;
  limits.max_tensor_bytes = 1 << 20;
  limits.max_envelope_bytes = 1 << 16;
  (void)runnel::Decode(std::move(frames), limits);
  return 0;
}
