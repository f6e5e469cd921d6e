// libFuzzer target over loading and running a model: any bytes go to Model::FromBytes (a
// GraphDef, binary or text: parse, import, shape inference, session, graph passes), and a
// graph that loads runs once with every input fed values drawn from the bytes, unknown
// dims 1 to 3. Each step must succeed or fail with a status, never crash, leak or hang.
// Graphs with ops that wait for another run (queues, barriers) or may loop forever
// (while loops) are loaded but not run.
#include <cstdint>
#include <cstring>
#include <optional>
#include <random>
#include <string_view>

#include "core/graph_io.h"
#include "google/protobuf/stubs/logging.h"
#include "runtime/inference.h"

namespace {

bool MayWaitForever(std::string_view bytes) {
  for (const char* op : {"Enter", "Queue", "Barrier", "Stack", "Accumulator", "Iterator"}) {
    if (bytes.find(op) != std::string_view::npos) return true;
  }
  return false;
}

// A value for `spec` drawn from `rng`, or none when its shape holds more than 2^16 elements
// (a big input is no more interesting, and the shape may claim more than memory holds).
std::optional<runnel::HostTensor> Feed(const runnel::TensorSpec& spec, std::mt19937* rng) {
  std::vector<int64_t> shape = spec.rank_known ? spec.shape : std::vector<int64_t>{2};
  int64_t elements = 1;
  for (int64_t& d : shape) {
    if (d < 0) d = 1 + (*rng)() % 3;
    if (__builtin_mul_overflow(elements, d, &elements) || elements > (1 << 16)) {
      return std::nullopt;
    }
  }
  runnel::HostTensor t(spec.type, shape);
  auto* bytes = static_cast<uint8_t*>(t.raw_data());
  for (size_t i = 0; i < t.num_bytes(); ++i) bytes[i] = static_cast<uint8_t>((*rng)());
  if (spec.type == runnel::ElementType::kBool) {
    for (size_t i = 0; i < t.num_bytes(); ++i) bytes[i] &= 1;
  }
  return t;
}

}  // namespace

// Bad UTF-8 in a string field is logged by protobuf, then the parse fails: keep it quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  runnel::ModelOptions options;
  options.session_options = {{"intra_op_parallelism_threads", "1"},
                             {"inter_op_parallelism_threads", "1"}};
  auto model = runnel::Model::FromBytes(bytes, options);
  if (!model.ok() || MayWaitForever(bytes)) return 0;
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string_view>()(bytes)));
  std::vector<std::pair<std::string, runnel::HostTensor>> feeds;
  for (const runnel::TensorSpec& input : (*model)->inputs()) {
    if (input.type == runnel::ElementType::kString) return 0;  // not feedable here
    std::optional<runnel::HostTensor> value = Feed(input, &rng);
    if (!value) return 0;
    feeds.emplace_back(input.name, *std::move(value));
  }
  (void)(*model)->Run(feeds);
  return 0;
}
