// libFuzzer target over image decoding: the first byte picks DecodeJpeg or DecodePng and
// the channels asked for, the rest is the file. Every input decodes or fails with an
// error, never crashes, over-reads or allocates more than the declared-size limit.
#include <cstdint>
#include <memory>
#include <string>

#include "core/graph_io.h"
#include "runtime/direct_session.h"

namespace {

// One session over a string placeholder and a decoder per (format, channels, dtype).
constexpr const char* kGraph = R"pb(
  node {
    name: "contents"
    op: "Placeholder"
    attr {
      key: "dtype"
      value { type: DT_STRING }
    }
  }
  node { name: "jpeg0" op: "DecodeJpeg" input: "contents" }
  node {
    name: "jpeg1"
    op: "DecodeJpeg"
    input: "contents"
    attr {
      key: "channels"
      value { i: 1 }
    }
    attr {
      key: "ratio"
      value { i: 4 }
    }
  }
  node {
    name: "jpeg3"
    op: "DecodeJpeg"
    input: "contents"
    attr {
      key: "channels"
      value { i: 3 }
    }
    attr {
      key: "dct_method"
      value { s: "INTEGER_ACCURATE" }
    }
  }
  node { name: "png0" op: "DecodePng" input: "contents" }
  node {
    name: "png2"
    op: "DecodePng"
    input: "contents"
    attr {
      key: "channels"
      value { i: 2 }
    }
  }
  node {
    name: "png16"
    op: "DecodePng"
    input: "contents"
    attr {
      key: "channels"
      value { i: 4 }
    }
    attr {
      key: "dtype"
      value { type: DT_UINT16 }
    }
  }
)pb";
constexpr const char* kDecoders[] = {"jpeg0:0", "jpeg1:0", "jpeg3:0",
                                     "png0:0",  "png2:0",  "png16:0"};

runnel::DirectSession* Session() {
  static runnel::DirectSession* session = [] {
    runnel::SessionOptions options;
    (void)options.Set("intra_op_parallelism_threads", "1");
    (void)options.Set("inter_op_parallelism_threads", "1");
    auto graph = runnel::ParseGraphDefAnyFormat(kGraph);
    if (!graph.ok()) __builtin_trap();
    auto created = runnel::DirectSession::Create(*graph, options);
    if (!created.ok()) __builtin_trap();
    return created->release();
  }();
  return session;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  runnel::Tensor contents(runnel::DT_STRING, runnel::TensorShape{});
  contents.data<std::string>()->assign(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::vector<runnel::Tensor> outputs;
  const char* decoder = kDecoders[data[0] % (sizeof(kDecoders) / sizeof(kDecoders[0]))];
  (void)Session()->Run({{"contents", contents}}, {decoder}, {}, &outputs);
  return 0;
}
