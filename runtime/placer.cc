#include "runtime/placer.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/kernel_registry.h"
#include "core/status.h"

namespace runnel {
namespace {

bool HasKernel(const Device& device, const Node& node) {
  return KernelRegistry::Global()->Find(device.device_type(), node.def()) != nullptr;
}

// The node named by a `_class: ["loc:@name"]` attr, if any.
std::string ColocationTarget(const Node& node) {
  std::vector<std::string> classes;
  if (!node.attrs().Get("_class", &classes).ok()) return "";
  for (const auto& c : classes) {
    if (absl::StartsWith(c, "loc:@")) return c.substr(5);
  }
  return "";
}

}  // namespace

absl::Status PlaceGraph(Graph* graph, const DeviceSet& devices, bool allow_soft_placement) {
  std::vector<Device*> hosts = devices.Matching(DeviceName{"", -1, -1, "CPU", -1});
  // Each node after its inputs: a node writing to a variable follows the variable.
  for (Node* node : graph->TopologicalOrder()) {
    std::vector<Device*> with_kernel;
    for (const auto& d : devices.devices()) {
      if (HasKernel(*d, *node)) with_kernel.push_back(d.get());
    }
    if (with_kernel.empty()) {
      return absl::NotFoundError(absl::StrCat(
          "no device has a kernel for op '", node->type_string(), "'; registered kernels: ",
          KernelRegistry::Global()->DescribeKernels(node->type_string()), node->ErrorSuffix()));
    }
    Device* chosen = nullptr;
    if (node->type_string() == "_Arg" || node->type_string() == "_Retval") {
      for (Device* d : hosts) {
        if (HasKernel(*d, *node)) {
          chosen = d;
          break;
        }
      }
    }
    // Whatever writes to a variable through a reference runs where the variable lives.
    for (int i = 0; i < node->num_inputs() && chosen == nullptr; ++i) {
      if (!IsRefType(node->input_type(i))) continue;
      Device* d = devices.Find(node->input_edge(i)->src->assigned_device());
      if (d != nullptr && HasKernel(*d, *node)) chosen = d;
    }
    std::string colocate = ColocationTarget(*node);
    if (chosen == nullptr && !colocate.empty()) {
      Node* other = graph->FindNode(colocate);
      if (other != nullptr && !other->assigned_device().empty()) {
        Device* d = devices.Find(other->assigned_device());
        if (d != nullptr && HasKernel(*d, *node)) chosen = d;
      }
    }
    if (chosen == nullptr && !node->requested_device().empty()) {
      auto spec = DeviceName::Parse(node->requested_device());
      if (!spec.ok()) return AppendToMessage(spec.status(), node->ErrorSuffix());
      std::vector<Device*> matching = devices.Matching(*spec);
      for (Device* d : matching) {
        if (HasKernel(*d, *node)) {
          chosen = d;
          break;
        }
      }
      if (chosen == nullptr && !allow_soft_placement) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot assign a device: requested '", node->requested_device(), "', ",
                         matching.empty() ? "which matches no device"
                                          : "whose devices have no kernel for this op",
                         " (devices: ", devices.DebugNames(), ")", node->ErrorSuffix()));
      }
    }
    if (chosen == nullptr) chosen = with_kernel.front();
    node->set_assigned_device(chosen->name());
  }
  return absl::OkStatus();
}

}  // namespace runnel
