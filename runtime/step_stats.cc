#include "runtime/step_stats.h"

#include <algorithm>
#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace runnel {

StepStats ToStepStats(const std::vector<NodeRunStats>& nodes) {
  StepStats out;
  std::map<std::string, DeviceStepStats*> by_device;
  for (const NodeRunStats& n : nodes) {
    DeviceStepStats*& device = by_device[n.device];
    if (device == nullptr) {
      device = out.add_dev_stats();
      device->set_device(n.device);
    }
    NodeExecStats* s = device->add_node_stats();
    s->set_node_name(n.node);
    s->set_timeline_label(absl::StrCat(n.node, " = ", n.op));
    s->set_all_start_nanos(n.start_ns);
    s->set_all_start_micros(n.start_ns / 1000);
    s->set_op_end_rel_nanos(n.elapsed_ns);
    s->set_all_end_rel_nanos(n.elapsed_ns);
    s->set_op_end_rel_micros(n.elapsed_ns / 1000);
    s->set_all_end_rel_micros(n.elapsed_ns / 1000);
    if (!n.allocator.empty()) {
      AllocatorMemoryUsed* m = s->add_memory();
      m->set_allocator_name(n.allocator);
      m->set_total_bytes(n.output_bytes);
      m->set_allocator_bytes_in_use(n.allocator_bytes_in_use);
    }
    for (size_t i = 0; i < n.outputs.size(); ++i) {
      if (n.outputs[i].first == DT_INVALID) continue;
      NodeOutput* o = s->add_output();
      o->set_slot(static_cast<int>(i));
      TensorDescription* d = o->mutable_tensor_description();
      d->set_dtype(n.outputs[i].first);
      for (int64_t dim : n.outputs[i].second) d->mutable_shape()->add_dim()->set_size(dim);
    }
  }
  return out;
}

namespace {

// `text` as a JSON string literal.
std::string JsonString(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// The op of a TensorFlow timeline label ("name = Op(inputs)"), else `fallback`.
std::string LabelOp(const std::string& label, const std::string& fallback) {
  const size_t eq = label.find(" = ");
  if (eq == std::string::npos) return fallback;
  const size_t end = label.find('(', eq);
  return label.substr(eq + 3, end == std::string::npos ? std::string::npos : end - eq - 3);
}

}  // namespace

std::string ChromeTrace(const StepStats& stats) {
  std::vector<std::string> events;
  for (int pid = 0; pid < stats.dev_stats_size(); ++pid) {
    const DeviceStepStats& device = stats.dev_stats(pid);
    events.push_back(absl::StrCat(R"({"name":"process_name","ph":"M","pid":)", pid,
                                  R"(,"args":{"name":)", JsonString(device.device()), "}}"));
    std::vector<const NodeExecStats*> nodes;
    for (const NodeExecStats& n : device.node_stats()) nodes.push_back(&n);
    auto start = [](const NodeExecStats* n) {
      return n->all_start_nanos() ? n->all_start_nanos() : n->all_start_micros() * 1000;
    };
    auto duration = [](const NodeExecStats* n) {
      return n->op_end_rel_nanos() ? n->op_end_rel_nanos() : n->op_end_rel_micros() * 1000;
    };
    std::stable_sort(nodes.begin(), nodes.end(),
                     [&](const auto* a, const auto* b) { return start(a) < start(b); });
    std::vector<int64_t> row_ends;  // per row (tid): when its last event ends
    for (const NodeExecStats* n : nodes) {
      size_t row = 0;
      while (row < row_ends.size() && row_ends[row] > start(n)) ++row;
      if (row == row_ends.size()) row_ends.push_back(0);
      row_ends[row] = start(n) + duration(n);
      events.push_back(absl::StrFormat(
          R"({"name":%s,"cat":"Op","ph":"X","pid":%d,"tid":%d,"ts":%.3f,"dur":%.3f,)"
          R"("args":{"name":%s,"op":%s}})",
          JsonString(LabelOp(n->timeline_label(), n->node_name())), pid, row, start(n) / 1e3,
          duration(n) / 1e3, JsonString(n->node_name()),
          JsonString(LabelOp(n->timeline_label(), n->node_name()))));
    }
  }
  return absl::StrCat(R"({"displayTimeUnit":"ns","traceEvents":[)", absl::StrJoin(events, ","),
                      "]}\n");
}

int64_t EstimateFlops(const std::string& op, const std::vector<std::vector<int64_t>>& input_shapes,
                      const std::vector<int64_t>& output_shape) {
  int64_t out = 1;
  for (int64_t d : output_shape) out *= d;
  if (output_shape.empty() || out <= 0 || input_shapes.size() < 2) return 0;
  const std::vector<int64_t>& a = input_shapes[0];
  const std::vector<int64_t>& b = input_shapes[1];
  if (op == "MatMul" || op == "_FusedMatMul" || op == "BatchMatMul" || op == "BatchMatMulV2") {
    // out has [..., M, N]; the inner dim is whichever of a's last two is not M.
    if (a.size() < 2) return 0;
    const int64_t m = output_shape[output_shape.size() - 2];
    const int64_t k =
        a[a.size() - 1] == m && a[a.size() - 2] != m ? a[a.size() - 2] : a[a.size() - 1];
    return 2 * out * k;
  }
  if (b.size() != 4) return 0;
  if (op == "Conv2D" || op == "_FusedConv2D") return 2 * out * b[0] * b[1] * b[2];
  if (op == "DepthwiseConv2dNative" || op == "_FusedDepthwiseConv2dNative") {
    return 2 * out * b[0] * b[1];
  }
  return 0;
}

}  // namespace runnel
