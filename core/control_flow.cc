#include "core/control_flow.h"

#include <deque>
#include <map>

namespace runnel {
namespace {

bool IsOp(const Node* node, const char* op) { return node->type_string() == op; }

}  // namespace

Frames::Frames(const Graph& graph) : of(graph.num_node_ids(), 0) {
  std::map<std::pair<int, std::string>, int> children;
  std::vector<bool> seen(graph.num_node_ids(), false);
  std::deque<Node*> queue;
  for (Node* node : graph.nodes()) {
    if (node->in_edges().empty()) {
      seen[node->id()] = true;
      queue.push_back(node);
    }
  }
  while (!queue.empty()) {
    Node* node = queue.front();
    queue.pop_front();
    int base = of[node->id()];
    if (IsOp(node, "Exit") && base != 0) base = info[base].parent;
    for (const Edge* e : node->out_edges()) {
      int frame = base;
      if (IsOp(e->dst, "Enter") || IsOp(e->dst, "RefEnter")) {
        std::string name;
        e->dst->attrs().Get("frame_name", &name).IgnoreError();
        auto [it, added] = children.emplace(std::make_pair(base, name), info.size());
        if (added) info.push_back(Info{name, base, e->dst});
        frame = it->second;
      }
      if (!seen[e->dst->id()]) {
        seen[e->dst->id()] = true;
        of[e->dst->id()] = frame;
        queue.push_back(e->dst);
      }
    }
  }
}

int Frames::ValueFrame(const Node* node) const {
  const int frame = of[node->id()];
  return IsOp(node, "Exit") && frame != 0 ? info[frame].parent : frame;
}

bool Frames::Within(int frame, int ancestor) const {
  for (; frame >= 0; frame = info[frame].parent) {
    if (frame == ancestor) return true;
  }
  return false;
}

int Frames::ChildOf(int region, int frame) const {
  for (; frame > 0; frame = info[frame].parent) {
    if (info[frame].parent == region) return frame;
  }
  return -1;
}

void Frames::Record(const Node* node, int frame) {
  if (static_cast<int>(of.size()) <= node->id()) of.resize(node->id() + 1, 0);
  of[node->id()] = frame;
}

}  // namespace runnel
