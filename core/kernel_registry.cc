#include "core/kernel_registry.h"

#include <algorithm>

#include "absl/strings/str_join.h"

namespace runnel {
namespace {

bool Matches(const KernelDef& def, const NodeDef& node) {
  for (const auto& [attr, allowed] : def.type_constraints) {
    auto it = node.attr().find(attr);
    if (it == node.attr().end()) return false;
    const AttrValue& value = it->second;
    auto ok = [&types = allowed](int t) {  // C++17 lambdas cannot capture a binding
      return std::find(types.begin(), types.end(), static_cast<DataType>(t)) != types.end();
    };
    if (value.value_case() == AttrValue::kType) {
      if (!ok(value.type())) return false;
    } else if (value.value_case() == AttrValue::kList) {
      for (int t : value.list().type()) {
        if (!ok(t)) return false;
      }
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string KernelRegistry::DescribeNodeTypes(const NodeDef& node) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : node.attr()) {
    if (value.value_case() == AttrValue::kType ||
        (value.value_case() == AttrValue::kList && value.list().type_size() > 0)) {
      parts.push_back(absl::StrCat(name, "=", AttrValueSummary(value)));
    }
  }
  std::sort(parts.begin(), parts.end());
  return absl::StrJoin(parts, ", ");
}

void KernelRegistry::HostMemoryArgs(const KernelDef& def, const OpDef& op_def, const NodeDef& node,
                                    std::vector<bool>* inputs, std::vector<bool>* outputs) {
  AttrSlice attrs(node);
  auto expand = [&](const google::protobuf::RepeatedPtrField<OpDef::ArgDef>& args,
                    std::vector<bool>* out) {
    out->clear();
    for (const auto& arg : args) {
      int64_t count = 1;
      std::vector<DataType> list;
      if (!arg.number_attr().empty()) {
        (void)attrs.Get(arg.number_attr(), &count);
      } else if (!arg.type_list_attr().empty() && attrs.Get(arg.type_list_attr(), &list).ok()) {
        count = static_cast<int64_t>(list.size());
      }
      const bool host = std::find(def.host_memory_args.begin(), def.host_memory_args.end(),
                                  arg.name()) != def.host_memory_args.end();
      out->insert(out->end(), std::max<int64_t>(count, 0), host);
    }
  };
  expand(op_def.input_arg(), inputs);
  expand(op_def.output_arg(), outputs);
}

KernelRegistry* KernelRegistry::Global() {
  static KernelRegistry* registry = new KernelRegistry;
  return registry;
}

void KernelRegistry::Register(const KernelDef& def, KernelFactory factory) {
  kernels_.emplace(def.op, Entry{def, factory});
}

const KernelRegistry::Entry* KernelRegistry::FindEntry(
    const std::string& device_type, const NodeDef& node, const std::vector<DataType>& input_types,
    const std::vector<DataType>& output_types) const {
  auto is_string = [](DataType t) { return BaseType(t) == DT_STRING; };
  const bool strings = std::any_of(input_types.begin(), input_types.end(), is_string) ||
                       std::any_of(output_types.begin(), output_types.end(), is_string);
  auto [begin, end] = kernels_.equal_range(node.op());
  for (auto it = begin; it != end; ++it) {
    if (it->second.def.device_type == device_type && Matches(it->second.def, node) &&
        (!strings || it->second.def.allows_strings)) {
      return &it->second;
    }
  }
  return nullptr;
}

const KernelDef* KernelRegistry::Find(const std::string& device_type, const NodeDef& node,
                                      const std::vector<DataType>& input_types,
                                      const std::vector<DataType>& output_types) const {
  const Entry* entry = FindEntry(device_type, node, input_types, output_types);
  return entry == nullptr ? nullptr : &entry->def;
}

std::string KernelRegistry::DescribeKernels(const std::string& op) const {
  std::vector<std::string> lines;
  auto [begin, end] = kernels_.equal_range(op);
  for (auto it = begin; it != end; ++it) {
    std::vector<std::string> constraints;
    for (const auto& [attr, types] : it->second.def.type_constraints) {
      std::vector<std::string> names;
      for (DataType t : types) names.push_back(DataTypeString(t));
      constraints.push_back(absl::StrCat(attr, " in [", absl::StrJoin(names, ","), "]"));
    }
    lines.push_back(absl::StrCat(it->second.def.device_type, constraints.empty() ? "" : " ",
                                 absl::StrJoin(constraints, ", ")));
  }
  if (lines.empty()) return "none";
  return absl::StrJoin(lines, "; ");
}

absl::StatusOr<std::unique_ptr<OpKernel>> KernelRegistry::CreateKernel(
    OpKernelConstruction* construction) {
  const NodeDef& node = construction->def();
  const Entry* entry = FindEntry(construction->device_type(), node, construction->input_types(),
                                 construction->output_types());
  if (entry != nullptr) {
    std::unique_ptr<OpKernel> kernel = entry->factory();
    kernel->name_ = node.name();
    kernel->type_string_ = node.op();
    kernel->input_types_ = construction->input_types();
    kernel->output_types_ = construction->output_types();
    RETURN_IF_ERROR(kernel->Init(construction));
    return kernel;
  }
  std::string types = DescribeNodeTypes(node);
  return absl::NotFoundError(absl::StrCat("no ", construction->device_type(), " kernel for op '",
                                          node.op(), "'",
                                          types.empty() ? "" : absl::StrCat(" with ", types),
                                          "; registered kernels: ", DescribeKernels(node.op())));
}

std::vector<const KernelDef*> KernelRegistry::KernelDefs(const std::string& op,
                                                         const std::string& device_type) const {
  std::vector<const KernelDef*> defs;
  auto [begin, end] = kernels_.equal_range(op);
  for (auto it = begin; it != end; ++it) {
    if (it->second.def.device_type == device_type) defs.push_back(&it->second.def);
  }
  return defs;
}

bool RegisterForGpu(const char* op, const char* type_attr,
                    const std::vector<std::string>& host_args,
                    const std::vector<std::string>& int32_args, KernelFactory factory) {
  KernelDefBuilder device(op), host(op);
  device.Device(kGpu);
  host.Device(kGpu);
  if (type_attr == nullptr) {
    for (const std::string& arg : host_args) device.HostMemory(arg);
    KernelRegistry::Global()->Register(device.def(), factory);
    return true;
  }
  device.TypeConstraint(type_attr, kGpuMemoryTypes);
  host.TypeConstraint(type_attr, {DT_INT32});
  for (const std::string& arg : host_args) {
    device.HostMemory(arg);
    host.HostMemory(arg);
  }
  for (const std::string& arg : int32_args) host.HostMemory(arg);
  KernelRegistry::Global()->Register(device.def(), factory);
  KernelRegistry::Global()->Register(host.def(), factory);
  return true;
}

}  // namespace runnel
