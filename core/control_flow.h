// While loops seen from the graph: which frame each node runs in, as the executor assigns
// frames (runtime/executor.cc): an Enter runs in the child frame its frame_name names, a
// node runs in its inputs' frame, and what an Exit feeds runs in the Exit's parent frame.
// The gradient builder (core/gradients.cc) and the partitioner use it.
#pragma once

#include <string>
#include <vector>

#include "core/graph.h"

namespace runnel {

struct Frames {
  struct Info {
    std::string name;
    int parent = -1;
    const Node* enter = nullptr;  // one of its Enters: frame_name, parallel_iterations
  };
  std::vector<Info> info{Info{}};  // [0]: the root
  std::vector<int> of;             // by node id; nodes added later may be recorded

  explicit Frames(const Graph& graph);
  // The frame a node's outputs live in: an Exit's parent frame, else its own.
  int ValueFrame(const Node* node) const;
  // Whether `frame` is `ancestor` or nested in it.
  bool Within(int frame, int ancestor) const;
  // The child of `region` that `frame` is within; -1 if none.
  int ChildOf(int region, int frame) const;
  // The loop directly in the root that `frame` is within (0 for the root itself).
  int Outermost(int frame) const { return frame == 0 ? 0 : ChildOf(0, frame); }
  void Record(const Node* node, int frame);
};

}  // namespace runnel
