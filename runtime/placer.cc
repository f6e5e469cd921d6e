#include "runtime/placer.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/types/span.h"
#include "core/kernel_registry.h"
#include "core/status.h"

namespace runnel {
namespace {

bool HasKernel(const Device& device, const Node& node) {
  return KernelRegistry::Global()->Find(device.device_type(), node.def(), node.input_types(),
                                        node.output_types()) != nullptr;
}

// The nodes named by a `_class: ["loc:@name", ...]` attr.
std::vector<std::string> ColocationTargets(const Node& node) {
  std::vector<std::string> classes, targets;
  if (!node.attrs().Get("_class", &classes).ok()) return targets;
  for (const auto& c : classes) {
    if (absl::StartsWith(c, "loc:@")) targets.push_back(c.substr(5));
  }
  return targets;
}

bool IsReference(DataType t) { return IsRefType(t) || t == DT_RESOURCE; }

// Whether `node` takes a variable's reference as an input.
bool ReadsReference(const Node& node) {
  for (const Edge* e : node.in_edges()) {
    if (!e->IsControlEdge() && IsReference(e->src->output_type(e->src_output))) return true;
  }
  return false;
}

class UnionFind {
 public:
  explicit UnionFind(int n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  int Find(int x) {
    while (parent_[x] != x) x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Union(int a, int b) { parent_[Find(a)] = Find(b); }

 private:
  std::vector<int> parent_;
};

class GroupPlacer {
 public:
  GroupPlacer(const DeviceSet& devices, bool soft) : devices_(devices), soft_(soft) {}

  // Places the members of one colocation group (those without a device yet).
  absl::Status Place(absl::Span<Node* const> members) {
    // A member placed already pins the group.
    const Node* pinned = nullptr;
    for (const Node* n : members) {
      if (n->assigned_device().empty()) continue;
      if (pinned != nullptr && pinned->assigned_device() != n->assigned_device()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "cannot colocate '", n->name(), "' (on ", n->assigned_device(), ") with '",
            pinned->name(), "' (on ", pinned->assigned_device(), ")", n->ErrorSuffix()));
      }
      pinned = n;
    }
    // The requests must agree; _Arg and _Retval ask for the host. As in TensorFlow, a node
    // that only reads or updates a variable through its reference follows the variable:
    // its own request is merged last and ignored when it disagrees (a worker's
    // is_variable_initialized(v) or global_step update under replica_device_setter).
    DeviceName spec;
    const Node* spec_owner = nullptr;
    std::vector<const Node*> ordered(members.begin(), members.end());
    std::stable_partition(ordered.begin(), ordered.end(),
                          [](const Node* n) { return !ReadsReference(*n); });
    for (const Node* n : ordered) {
      std::string requested = n->requested_device();
      if (requested.empty() && (n->type_string() == "_Arg" || n->type_string() == "_Retval")) {
        requested = "/device:CPU:*";
      }
      if (requested.empty()) continue;
      auto parsed = DeviceName::Parse(requested);
      if (!parsed.ok()) return AppendToMessage(parsed.status(), n->ErrorSuffix());
      auto merged = DeviceName::Merge(spec, *parsed);
      if (!merged.ok() && ReadsReference(*n) && spec_owner != nullptr) continue;
      if (!merged.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("cannot colocate '", n->name(), "' (requested '", requested, "') with '",
                         spec_owner->name(), "' (requested '", spec_owner->requested_device(),
                         "'): they ask for different devices", n->ErrorSuffix()));
      }
      spec = *merged;
      if (spec_owner == nullptr) spec_owner = n;
    }
    // The devices with kernels for every member.
    std::vector<Device*> capable;
    for (const auto& d : devices_.devices()) {
      bool all = true;
      for (const Node* n : members) all = all && HasKernel(*d, *n);
      if (all) capable.push_back(d.get());
    }
    if (capable.empty()) return NoCommonDevice(members);
    Device* chosen = nullptr;
    if (pinned != nullptr) {
      chosen = devices_.Find(pinned->assigned_device());
      if (std::find(capable.begin(), capable.end(), chosen) == capable.end()) {
        return NoCommonDevice(members);
      }
    } else {
      for (Device* d : capable) {
        if (d->parsed_name().Matches(spec)) {
          chosen = d;
          break;
        }
      }
      if (chosen == nullptr) {
        const std::vector<Device*> matching = devices_.Matching(spec);
        if (!soft_) {
          return absl::InvalidArgumentError(absl::StrCat(
              "cannot assign a device: requested '", spec_owner->requested_device(), "', ",
              matching.empty() ? "which matches no device"
                               : "whose devices have no kernel for this op",
              " (devices: ", devices_.DebugNames(), ")", spec_owner->ErrorSuffix()));
        }
        // The best capable device: one of the requested type if any, else the first.
        chosen = capable.front();
        for (Device* d : capable) {
          if (d->device_type() == spec.type) {
            chosen = d;
            break;
          }
        }
        const std::string moved = absl::StrCat(spec.ToString(), " -> ", chosen->name());
        if (logged_.insert(moved).second) {
          std::fprintf(
              stderr, "runnel: soft placement: '%s'%s asked for %s, %s; placed on %s\n",
              spec_owner->name().c_str(),
              members.size() > 1 ? absl::StrCat(" (and ", members.size() - 1, " colocated)").c_str()
                                 : "",
              spec_owner->requested_device().c_str(),
              matching.empty() ? "which matches no device" : "whose devices have no kernel for it",
              chosen->name().c_str());
        }
      }
    }
    for (Node* n : members) {
      if (n->assigned_device().empty()) n->set_assigned_device(chosen->name());
    }
    return absl::OkStatus();
  }

 private:
  absl::Status NoCommonDevice(absl::Span<Node* const> members) const {
    if (members.size() == 1) {
      const Node* n = members[0];
      const std::string types = KernelRegistry::DescribeNodeTypes(n->def());
      return absl::NotFoundError(absl::StrCat(
          "no device has a kernel for op '", n->type_string(), "'",
          types.empty() ? "" : absl::StrCat(" with ", types), "; registered kernels: ",
          KernelRegistry::Global()->DescribeKernels(n->type_string()), n->ErrorSuffix()));
    }
    std::vector<std::string> parts;
    for (const Node* n : members) {
      std::vector<std::string> types;
      for (const auto& d : devices_.devices()) {
        if (HasKernel(*d, *n) &&
            std::find(types.begin(), types.end(), d->device_type()) == types.end()) {
          types.push_back(d->device_type());
        }
      }
      parts.push_back(absl::StrCat(
          "'", n->name(), "' (", n->type_string(), ") on ",
          types.empty() ? "none" : absl::StrJoin(types, ", "),
          n->assigned_device().empty() ? "" : absl::StrCat(", placed on ", n->assigned_device())));
    }
    return absl::InvalidArgumentError(
        absl::StrCat("colocated nodes have no device in common: ", absl::StrJoin(parts, "; "),
                     members[0]->ErrorSuffix()));
  }

  const DeviceSet& devices_;
  const bool soft_;
  absl::flat_hash_set<std::string> logged_;
};

}  // namespace

absl::Status PlaceGraph(Graph* graph, const DeviceSet& devices, bool allow_soft_placement) {
  UnionFind groups(graph->num_node_ids());
  // A loop variable's Enter, Merge, Switch, Exit and NextIteration stay together (the
  // back edge into the Merge never crosses devices); the rest of a loop may go anywhere,
  // the partitioner adding control loops where it is split (runtime/partition.cc).
  for (Node* node : graph->nodes()) {
    if (node->type_string() != "Merge") continue;
    for (const Edge* e : node->in_edges()) {
      const std::string& op = e->src->type_string();
      if (op == "NextIteration" || op == "Enter" || op == "RefEnter") {
        groups.Union(node->id(), e->src->id());
      }
    }
    for (const Edge* e : node->out_edges()) {
      if (e->IsControlEdge() || e->dst->type_string() != "Switch") continue;
      const Node* pred = e->dst->input_edge(1)->src;
      if (pred->type_string() != "LoopCond") continue;
      groups.Union(node->id(), e->dst->id());
      for (const Edge* out : e->dst->out_edges()) {
        if (out->dst->type_string() == "Exit") groups.Union(node->id(), out->dst->id());
      }
    }
  }
  for (Node* node : graph->nodes()) {
    for (const std::string& target : ColocationTargets(*node)) {
      if (const Node* other = graph->FindNode(target)) groups.Union(node->id(), other->id());
    }
    // A fetch of a variable reads its value on the host, and does not move it there.
    if (node->type_string() == "_Retval") continue;
    for (const Edge* e : node->in_edges()) {
      if (!e->IsControlEdge() && IsReference(e->src->output_type(e->src_output))) {
        groups.Union(node->id(), e->src->id());
      }
    }
  }
  // Groups in the order of their first member (by id), members in id order, for stable
  // choices. Most nodes are a group of their own: those need no member list.
  const int n = graph->num_node_ids();
  std::vector<int> size(n, 0);
  for (Node* node : graph->nodes()) ++size[groups.Find(node->id())];
  absl::flat_hash_map<int, std::vector<Node*>> members;
  std::vector<int> order;
  for (Node* node : graph->nodes()) {
    const int root = groups.Find(node->id());
    if (size[root] == 1) {
      order.push_back(node->id());
      continue;
    }
    auto& list = members[root];
    if (list.empty()) order.push_back(root);
    list.push_back(node);
  }
  GroupPlacer placer(devices, allow_soft_placement);
  for (int id : order) {
    const int root = groups.Find(id);
    if (size[root] == 1) {
      Node* node = graph->node(id);
      if (node->assigned_device().empty()) RETURN_IF_ERROR(placer.Place(absl::MakeSpan(&node, 1)));
      continue;
    }
    const std::vector<Node*>& group = members[root];
    if (std::all_of(group.begin(), group.end(),
                    [](const Node* m) { return !m->assigned_device().empty(); })) {
      continue;
    }
    RETURN_IF_ERROR(placer.Place(group));
  }
  return absl::OkStatus();
}

}  // namespace runnel
