// Times a model exported by tools/bench/gpu_export.py through the C++ API, where Runnel's
// Python is not (the GPU machine): training steps (its train op, random data of the spec's
// shapes) or inference (its logits, at a batch size), on the devices Runnel finds (a GPU
// when there is one) or on the CPU alone (--cpu). Prints one JSON line: the median step's
// milliseconds and examples per second.
//   gpu_train DIR/mlp_train.spec [--infer BATCH] [--steps N] [--cpu]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/graph_io.h"
#include "runtime/direct_session.h"

namespace {

using runnel::DataType;
using runnel::Tensor;
using runnel::TensorShape;

struct Feed {
  std::string name;
  DataType dtype;
  TensorShape shape;
  bool has_value = false;
  double value = 0;
};

struct Spec {
  std::string init, train, loss, logits;
  std::vector<Feed> feeds;
};

bool ReadSpec(const std::string& path, Spec* spec) {
  std::ifstream in(path);
  if (!in) return false;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string key;
    words >> key;
    if (key == "init") words >> spec->init;
    if (key == "train") words >> spec->train;
    if (key == "fetch") words >> spec->loss;
    if (key == "logits") words >> spec->logits;
    if (key != "feed") continue;
    Feed f;
    std::string dtype, dims;
    words >> f.name >> dtype >> dims;
    f.dtype = dtype == "float" ? runnel::DT_FLOAT : runnel::DT_INT64;
    if (dims != "-") {
      std::istringstream d(dims);
      std::string size;
      while (std::getline(d, size, ',')) f.shape.AddDim(std::stoll(size));
    }
    f.has_value = static_cast<bool>(words >> f.value);
    spec->feeds.push_back(f);
  }
  return !spec->init.empty() && !spec->train.empty() && !spec->feeds.empty();
}

// Random data of the feed's shape (classes 0-9 for labels), or its value.
Tensor Make(const Feed& f, std::mt19937* rng) {
  Tensor t(f.dtype, f.shape);
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    if (f.dtype == runnel::DT_FLOAT) {
      t.data<float>()[i] = f.has_value ? static_cast<float>(f.value)
                                       : std::uniform_real_distribution<float>(0, 1)(*rng);
    } else {
      t.data<int64_t>()[i] = std::uniform_int_distribution<int64_t>(0, 9)(*rng);
    }
  }
  return t;
}

int Fail(const std::string& what) {
  std::fprintf(stderr, "gpu_train: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Fail("usage: gpu_train SPEC [--infer BATCH] [--steps N] [--cpu]");
  const std::string spec_path = argv[1];
  int64_t infer_batch = 0;
  int steps = 50;
  bool cpu = false;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--infer" && i + 1 < argc) infer_batch = std::stoll(argv[++i]);
    if (arg == "--steps" && i + 1 < argc) steps = std::stoi(argv[++i]);
    if (arg == "--cpu") cpu = true;
  }
  Spec spec;
  if (!ReadSpec(spec_path, &spec)) return Fail("cannot read the spec " + spec_path);
  const std::string graph_path = spec_path.substr(0, spec_path.size() - 5) + ".pb";
  auto graph = runnel::ReadGraphDef(graph_path);
  if (!graph.ok()) return Fail(std::string(graph.status().message()));
  runnel::SessionOptions options;
  if (cpu) (void)options.Set("device_count.GPU", "0");
  auto session = runnel::DirectSession::Create(*graph, options);
  if (!session.ok()) return Fail(std::string(session.status().message()));
  std::vector<Tensor> out;
  if (auto s = (*session)->Run({}, {}, {spec.init}, &out); !s.ok()) {
    return Fail(std::string(s.message()));
  }
  std::mt19937 rng(0);
  std::vector<std::pair<std::string, Tensor>> feeds;
  std::vector<std::string> fetches, targets;
  int64_t batch = 0;
  if (infer_batch > 0) {  // the logits of a batch of x
    Feed x = spec.feeds[0];
    x.shape.set_dim(0, infer_batch);
    feeds.emplace_back(x.name, Make(x, &rng));
    fetches = {spec.logits};
    batch = infer_batch;
  } else {
    for (const Feed& f : spec.feeds) feeds.emplace_back(f.name, Make(f, &rng));
    fetches = {spec.loss};
    targets = {spec.train};
    batch = spec.feeds[0].shape.dim_size(0);
  }
  std::vector<double> ms;
  for (int i = 0; i < steps + 5; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (auto s = (*session)->Run(feeds, fetches, targets, &out); !s.ok()) {
      return Fail(std::string(s.message()));
    }
    const double elapsed =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (i >= 5) ms.push_back(elapsed);  // after the warm-up
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  std::printf("{\"mode\": \"%s\", \"batch\": %lld, \"ms\": %.4f, \"examples_per_s\": %.1f}\n",
              infer_batch > 0 ? "infer" : "train", static_cast<long long>(batch), median,
              batch * 1000.0 / median);
  return 0;
}
