// runnel-run: runs a frozen graph on inputs from .npy or raw files (random data of each
// placeholder's shape when none is given), prints its outputs or a top-k list, and with
// --benchmark measures latency percentiles, throughput and where the time goes per op.
// Uses the public C++ API (runtime/inference.h, installed as <runnel/inference.h>) and
// core/status.h's macros.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/file_util.h"
#include "core/status.h"
#include "runtime/inference.h"
#include "tools/runnel-run/npy.h"

namespace runnel {
namespace {

constexpr char kUsage[] =
    "usage: runnel-run MODEL.pb [--input NAME=FILE]... [--output NAME]... [--labels FILE]\n"
    "                  [--top K] [--batch N] [--benchmark] [--runs N] [--threads N]\n"
    "                  [--optimize LEVEL] [--save DIR] [--trace FILE]\n"
    "  --input NAME=FILE  feed a .npy file, a .jpg/.jpeg/.png image (decoded, resized to\n"
    "                     the input's height and width, then (x - input_mean) / input_std),\n"
    "                     or raw bytes of the input's dtype and shape (inputs without a\n"
    "                     file get random data of their shape)\n"
    "  --input_mean M, --input_std S   image scaling (default 0 and 255: values in [0, 1])\n"
    "  --output NAME      fetch this tensor (default: the graph's outputs)\n"
    "  --labels FILE      one label per line: print the top K classes of each row\n"
    "  --batch N          the size of unknown leading dims of random inputs (default 1)\n"
    "  --benchmark        time --runs runs (default 100): latency p50/p90/p99, throughput,\n"
    "                     and a per-op table\n"
    "  --save DIR         write each output to DIR/<name>.npy\n"
    "  --trace FILE       write one run's timeline to FILE (Chrome's trace format: open it in\n"
    "                     chrome://tracing or ui.perfetto.dev)\n";

struct Args {
  std::string model;
  std::vector<std::pair<std::string, std::string>> inputs;
  std::vector<std::string> outputs;
  std::string labels, save_dir, trace;
  int top = 5, runs = 100, threads = 0, optimize = -1;
  double input_mean = 0, input_std = 255;
  int64_t batch = 1;
  bool benchmark = false;
};

absl::StatusOr<Args> ParseArgs(int argc, char** argv) {
  Args args;
  auto number = [](const std::string& flag, const char* text) -> absl::StatusOr<int64_t> {
    char* end = nullptr;
    const long long v = std::strtoll(text, &end, 10);
    if (*end != '\0' || v < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(flag, " needs a non-negative number, got '", text, "'"));
    }
    return v;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    auto value = [&]() { return argv[++i]; };
    if (a == "-h" || a == "--help") return absl::CancelledError(kUsage);
    if (a == "--benchmark") {
      args.benchmark = true;
    } else if (a.rfind("--", 0) == 0 && !has_value) {
      return absl::InvalidArgumentError(absl::StrCat(a, " needs a value\n", kUsage));
    } else if (a == "--input") {
      const std::string spec = value();
      const size_t eq = spec.find('=');
      if (eq == std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("--input takes NAME=FILE, got '", spec, "'"));
      }
      args.inputs.emplace_back(spec.substr(0, eq), spec.substr(eq + 1));
    } else if (a == "--output") {
      args.outputs.push_back(value());
    } else if (a == "--labels") {
      args.labels = value();
    } else if (a == "--save") {
      args.save_dir = value();
    } else if (a == "--trace") {
      args.trace = value();
    } else if (a == "--input_mean" || a == "--input_std") {
      const char* text = value();
      char* end = nullptr;
      const double v = std::strtod(text, &end);
      if (*end != '\0' || (a == "--input_std" && v == 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat(a, " needs a (non-zero) number, got '", text, "'"));
      }
      (a == "--input_mean" ? args.input_mean : args.input_std) = v;
    } else if (a == "--top" || a == "--runs" || a == "--threads" || a == "--batch" ||
               a == "--optimize") {
      ASSIGN_OR_RETURN(int64_t v, number(a, value()));
      if (a == "--top") args.top = static_cast<int>(v);
      if (a == "--runs") args.runs = std::max<int>(1, static_cast<int>(v));
      if (a == "--threads") args.threads = static_cast<int>(v);
      if (a == "--batch") args.batch = std::max<int64_t>(1, v);
      if (a == "--optimize") args.optimize = static_cast<int>(v);
    } else if (a.rfind("--", 0) == 0) {
      return absl::InvalidArgumentError(absl::StrCat("unknown option ", a, "\n", kUsage));
    } else if (args.model.empty()) {
      args.model = a;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", a, "'\n", kUsage));
    }
  }
  if (args.model.empty()) return absl::InvalidArgumentError(kUsage);
  return args;
}

std::string ShapeString(const std::vector<int64_t>& shape, bool rank_known = true) {
  if (!rank_known) return "<unknown>";
  std::vector<std::string> dims;
  for (int64_t d : shape) dims.push_back(d < 0 ? "?" : std::to_string(d));
  return "[" + absl::StrJoin(dims, ",") + "]";
}

// Random values of the input's type: uniform [0, 1) for floats, 0-9 for integers.
HostTensor RandomInput(const TensorSpec& spec, int64_t batch, std::mt19937* rng) {
  std::vector<int64_t> shape = spec.shape;
  for (int64_t& d : shape) d = d < 0 ? batch : d;
  HostTensor t(spec.type, shape);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int64_t i = 0; i < t.num_elements(); ++i) {
    const double v = unit(*rng);
    switch (spec.type) {
      case ElementType::kFloat:
        t.data<float>()[i] = static_cast<float>(v);
        break;
      case ElementType::kDouble:
        t.data<double>()[i] = v;
        break;
      case ElementType::kInt32:
        t.data<int32_t>()[i] = static_cast<int32_t>(v * 10);
        break;
      case ElementType::kInt64:
        t.data<int64_t>()[i] = static_cast<int64_t>(v * 10);
        break;
      case ElementType::kUInt8:
        t.data<uint8_t>()[i] = static_cast<uint8_t>(v * 256);
        break;
      case ElementType::kBool:
        t.data<bool>()[i] = v < 0.5;
        break;
      default:
        break;
    }
  }
  return t;
}

// Raw bytes of the input's type; an unknown leading dim takes what the size gives.
absl::StatusOr<HostTensor> ReadRaw(const std::string& path, const TensorSpec& spec) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open '", path, "'"));
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  int64_t known = ElementSize(spec.type);
  int unknown = 0;
  for (int64_t d : spec.shape) d < 0 ? ++unknown : known *= d;
  std::vector<int64_t> shape = spec.shape;
  if (!spec.rank_known || unknown > 1 || known == 0 ||
      bytes.size() % static_cast<size_t>(known) != 0 ||
      (unknown == 0 && bytes.size() != static_cast<size_t>(known))) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "' holds ", bytes.size(), " bytes, which is no ", ElementTypeName(spec.type),
        " tensor of input '", spec.name, "''s shape ", ShapeString(spec.shape, spec.rank_known)));
  }
  for (int64_t& d : shape) d = d < 0 ? static_cast<int64_t>(bytes.size()) / known : d;
  HostTensor t(spec.type, shape);
  std::copy(bytes.begin(), bytes.end(), static_cast<char*>(t.raw_data()));
  return t;
}

std::string TextProtoString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// An image file as a batch of one for `spec` ([batch, height, width, channels], float):
// decoded, resized (bilinear) and scaled by a small graph of Runnel's own image ops.
absl::StatusOr<HostTensor> ReadImage(const std::string& path, const TensorSpec& spec, double mean,
                                     double std) {
  if (spec.shape.size() != 4 || spec.shape[1] <= 0 || spec.shape[2] <= 0 ||
      (spec.shape[3] != 1 && spec.shape[3] != 3) || spec.type != ElementType::kFloat) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", path, "': an image feeds a float32 [batch, height, width, 1 or 3] input; '", spec.name,
        "' is ", ElementTypeName(spec.type), " ", ShapeString(spec.shape, spec.rank_known)));
  }
  const bool png = absl::EndsWith(absl::AsciiStrToLower(path), ".png");
  const std::string graph = absl::StrCat(
      "node { name: 'filename' op: 'Const' attr { key: 'dtype' value { type: DT_STRING } } "
      "attr { key: 'value' value { tensor { dtype: DT_STRING tensor_shape {} string_val: ",
      TextProtoString(path), " } } } }\n",
      "node { name: 'contents' op: 'ReadFile' input: 'filename' }\n", "node { name: 'image' op: '",
      png ? "DecodePng" : "DecodeJpeg",
      "' input: 'contents' attr { key: 'channels' value { i: ", spec.shape[3], " } } }\n",
      "node { name: 'pixels' op: 'Cast' input: 'image' attr { key: 'SrcT' value { type: DT_UINT8 "
      "} } attr { key: 'DstT' value { type: DT_FLOAT } } }\n",
      "node { name: 'axis' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } } attr { key: "
      "'value' value { tensor { dtype: DT_INT32 tensor_shape {} int_val: 0 } } } }\n",
      "node { name: 'batch' op: 'ExpandDims' input: 'pixels' input: 'axis' }\n",
      "node { name: 'size' op: 'Const' attr { key: 'dtype' value { type: DT_INT32 } } attr { key: "
      "'value' value { tensor { dtype: DT_INT32 tensor_shape { dim { size: 2 } } int_val: ",
      spec.shape[1], " int_val: ", spec.shape[2], " } } } }\n",
      "node { name: 'resized' op: 'ResizeBilinear' input: 'batch' input: 'size' }\n",
      "node { name: 'mean' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } } attr { key: "
      "'value' value { tensor { dtype: DT_FLOAT tensor_shape {} float_val: ",
      mean, " } } } }\n",
      "node { name: 'std' op: 'Const' attr { key: 'dtype' value { type: DT_FLOAT } } attr { key: "
      "'value' value { tensor { dtype: DT_FLOAT tensor_shape {} float_val: ",
      std, " } } } }\n", "node { name: 'centered' op: 'Sub' input: 'resized' input: 'mean' }\n",
      "node { name: 'scaled' op: 'RealDiv' input: 'centered' input: 'std' }\n");
  ASSIGN_OR_RETURN(std::unique_ptr<Model> decoder, Model::FromBytes(graph));
  ASSIGN_OR_RETURN(std::vector<HostTensor> outputs, decoder->Run({}, {"scaled"}));
  return outputs[0];
}

absl::StatusOr<HostTensor> ReadInput(const std::string& path, const TensorSpec& spec,
                                     const Args& args) {
  if (absl::EndsWith(path, ".npy")) return ReadNpy(path);
  const std::string lower = absl::AsciiStrToLower(path);
  for (const char* image : {".jpg", ".jpeg", ".png"}) {
    if (absl::EndsWith(lower, image)) {
      return ReadImage(path, spec, args.input_mean, args.input_std);
    }
  }
  return ReadRaw(path, spec);
}

double ValueAt(const HostTensor& t, int64_t i) {
  switch (t.type()) {
    case ElementType::kFloat:
      return t.data<float>()[i];
    case ElementType::kDouble:
      return t.data<double>()[i];
    case ElementType::kInt32:
      return t.data<int32_t>()[i];
    case ElementType::kInt64:
      return static_cast<double>(t.data<int64_t>()[i]);
    case ElementType::kUInt8:
      return t.data<uint8_t>()[i];
    case ElementType::kBool:
      return t.data<bool>()[i];
    case ElementType::kInt16:
      return t.data<int16_t>()[i];
    case ElementType::kInt8:
      return t.data<int8_t>()[i];
    case ElementType::kUInt16:
      return t.data<uint16_t>()[i];
    default:
      return 0;
  }
}

void PrintOutput(const std::string& name, const HostTensor& t) {
  std::printf("%s: %s %s", name.c_str(), ElementTypeName(t.type()), ShapeString(t.shape()).c_str());
  const int64_t n = std::min<int64_t>(t.num_elements(), 10);
  for (int64_t i = 0; i < n; ++i) std::printf(" %.6g", ValueAt(t, i));
  std::printf("%s\n", t.num_elements() > n ? " ..." : "");
}

void PrintTop(const std::string& name, const HostTensor& t, const std::vector<std::string>& labels,
              int top) {
  const int64_t classes = t.shape().empty() ? 1 : t.shape().back();
  const int64_t rows = classes == 0 ? 0 : t.num_elements() / classes;
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<int64_t> order(classes);
    for (int64_t c = 0; c < classes; ++c) order[c] = c;
    const int64_t k = std::min<int64_t>(top, classes);
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int64_t a, int64_t b) {
      return ValueAt(t, r * classes + a) > ValueAt(t, r * classes + b);
    });
    std::printf("%s row %lld:\n", name.c_str(), static_cast<long long>(r));
    for (int64_t j = 0; j < k; ++j) {
      const int64_t c = order[j];
      std::printf("  %5lld  %.6f  %s\n", static_cast<long long>(c), ValueAt(t, r * classes + c),
                  c < static_cast<int64_t>(labels.size()) ? labels[c].c_str() : "");
    }
  }
}

// This process's resident memory in MB (Linux; 0 elsewhere): now, at its peak, and now in
// private (anonymous) pages: the heap, stacks and JIT code, without mapped libraries.
struct Resident {
  double now = 0, peak = 0, anonymous = 0;
};
Resident ResidentMb() {
  std::ifstream status("/proc/self/status");
  Resident r;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) r.now = std::atof(line.c_str() + 6) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) r.peak = std::atof(line.c_str() + 6) / 1024;
    if (line.rfind("RssAnon:", 0) == 0) r.anonymous = std::atof(line.c_str() + 8) / 1024;
  }
  return r;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p / 100 * (v.size() - 1) + 0.5));
  return v[i];
}

absl::Status Benchmark(const Model& model,
                       const std::vector<std::pair<std::string, HostTensor>>& feeds,
                       const std::vector<std::string>& outputs, int runs, int64_t batch) {
  for (int i = 0; i < std::max(3, runs / 10); ++i) {  // warm-up: caches, primitives, memory
    RETURN_IF_ERROR(model.Run(feeds, outputs).status());
  }
  std::vector<double> latencies;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    RETURN_IF_ERROR(model.Run(feeds, outputs).status());
    latencies.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("\nlatency over %d runs: p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  mean %.3f ms\n", runs,
              Percentile(latencies, 50), Percentile(latencies, 90), Percentile(latencies, 99),
              seconds * 1e3 / runs);
  std::printf("throughput: %.1f runs/s, %.1f examples/s (batch %lld)\n", runs / seconds,
              runs * batch / seconds, static_cast<long long>(batch));
  const Resident memory = ResidentMb();
  std::printf("resident memory: %.1f MB (peak %.1f MB), %.1f MB of it private\n", memory.now,
              memory.peak, memory.anonymous);

  // Per-op time, from separate timed runs (timing adds a little to each node).
  const int timed_runs = std::max(1, std::min(runs, 20));
  struct OpRow {
    int nodes = 0;
    double ms = 0;
    int64_t flops = 0;
  };
  std::map<std::string, OpRow> by_op;
  double total = 0;
  for (int i = 0; i < timed_runs; ++i) {
    std::vector<NodeTiming> timings;
    RETURN_IF_ERROR(model.Run(feeds, outputs, &timings).status());
    for (const NodeTiming& t : timings) {
      OpRow& row = by_op[t.op];
      if (i == 0) ++row.nodes;
      row.ms += t.milliseconds / timed_runs;
      row.flops += t.flops / timed_runs;
      total += t.milliseconds / timed_runs;
    }
  }
  std::vector<std::pair<std::string, OpRow>> rows(by_op.begin(), by_op.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.ms > b.second.ms; });
  std::printf("\nper op (kernel time per run, mean of %d runs):\n", timed_runs);
  std::printf("%-32s %6s %10s %7s %12s %9s\n", "op", "count", "total ms", "%", "MFLOP", "GFLOP/s");
  for (const auto& [op, row] : rows) {
    std::printf("%-32s %6d %10.3f %6.1f%% ", op.c_str(), row.nodes, row.ms,
                total > 0 ? 100 * row.ms / total : 0);
    if (row.flops > 0) {
      std::printf("%12.2f %9.1f\n", row.flops / 1e6, row.ms > 0 ? row.flops / row.ms / 1e6 : 0);
    } else {
      std::printf("%12s %9s\n", "", "");
    }
  }
  std::printf("%-32s %6s %10.3f\n", "all kernels", "", total);
  return absl::OkStatus();
}

absl::Status Main(int argc, char** argv) {
  ASSIGN_OR_RETURN(Args args, ParseArgs(argc, argv));
  ModelOptions options;
  if (args.threads > 0) {
    options.session_options["intra_op_parallelism_threads"] = std::to_string(args.threads);
    options.session_options["inter_op_parallelism_threads"] = std::to_string(args.threads);
  }
  if (args.optimize >= 0) {
    options.session_options["graph_optimization_level"] = std::to_string(args.optimize);
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Load(args.model, options));
  std::map<std::string, std::string> files(args.inputs.begin(), args.inputs.end());
  for (const auto& [name, file] : files) {
    if (std::none_of(model->inputs().begin(), model->inputs().end(),
                     [&](const TensorSpec& s) { return s.name == name; })) {
      std::vector<std::string> names;
      for (const TensorSpec& s : model->inputs()) names.push_back(s.name);
      return absl::InvalidArgumentError(
          absl::StrCat("--input ", name, ": the model has no input '", name,
                       "'; its inputs are: ", absl::StrJoin(names, ", ")));
    }
  }
  std::mt19937 rng(1);
  std::vector<std::pair<std::string, HostTensor>> feeds;
  int64_t batch = args.batch;
  for (const TensorSpec& spec : model->inputs()) {
    auto it = files.find(spec.name);
    if (it == files.end()) {
      if (!spec.rank_known) {
        return absl::InvalidArgumentError(
            absl::StrCat("input '", spec.name, "' has no known shape: give it a file with --input ",
                         spec.name, "=FILE"));
      }
      feeds.emplace_back(spec.name, RandomInput(spec, args.batch, &rng));
      std::printf("input %s: random %s %s\n", spec.name.c_str(), ElementTypeName(spec.type),
                  ShapeString(feeds.back().second.shape()).c_str());
    } else {
      ASSIGN_OR_RETURN(HostTensor value, ReadInput(it->second, spec, args));
      if (!value.shape().empty()) batch = value.shape()[0];
      std::printf("input %s: %s %s from %s\n", spec.name.c_str(), ElementTypeName(value.type()),
                  ShapeString(value.shape()).c_str(), it->second.c_str());
      feeds.emplace_back(spec.name, std::move(value));
    }
  }
  std::vector<std::string> output_names = args.outputs;
  if (output_names.empty()) {
    for (const TensorSpec& spec : model->outputs()) output_names.push_back(spec.name);
  }
  ASSIGN_OR_RETURN(std::vector<HostTensor> outputs, model->Run(feeds, output_names));
  std::vector<std::string> labels;
  if (!args.labels.empty()) {
    std::ifstream file(args.labels);
    if (!file) return absl::NotFoundError(absl::StrCat("cannot open labels '", args.labels, "'"));
    for (std::string line; std::getline(file, line);) labels.push_back(line);
  }
  for (size_t i = 0; i < outputs.size(); ++i) {
    if (labels.empty()) {
      PrintOutput(output_names[i], outputs[i]);
    } else {
      PrintTop(output_names[i], outputs[i], labels, args.top);
    }
    if (!args.save_dir.empty()) {
      std::string file = output_names[i];
      std::replace(file.begin(), file.end(), '/', '_');
      std::replace(file.begin(), file.end(), ':', '_');
      RETURN_IF_ERROR(WriteNpy(args.save_dir + "/" + file + ".npy", outputs[i]));
    }
  }
  if (!args.trace.empty()) {
    std::vector<NodeTiming> timings;
    RETURN_IF_ERROR(model->Run(feeds, output_names, &timings).status());
    RETURN_IF_ERROR(WriteFileAtomically(args.trace, ChromeTrace(timings)));
    std::printf("timeline of %zu ops written to %s\n", timings.size(), args.trace.c_str());
  }
  if (args.benchmark) return Benchmark(*model, feeds, output_names, args.runs, batch);
  return absl::OkStatus();
}

}  // namespace
}  // namespace runnel

int main(int argc, char** argv) {
  absl::Status status = runnel::Main(argc, argv);
  if (absl::IsCancelled(status)) {  // --help
    std::printf("%s", std::string(status.message()).c_str());
    return 0;
  }
  if (!status.ok()) {
    std::fprintf(stderr, "runnel-run: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  return 0;
}
