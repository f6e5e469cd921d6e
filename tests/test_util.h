// Helpers for C++ tests: build NodeDefs and tensors tersely, and run a GraphDef.
#pragma once

#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include "core/attr_value.h"
#include "core/tensor.h"
#include "gtest/gtest.h"
#include "runtime/direct_session.h"

namespace runnel::testing {

using Attrs = std::map<std::string, AttrValue>;

// Host memory that says it is a device's (as a GPU allocator's would be): for tests of
// what runs on a device whose memory is not the host's.
class DeviceMemoryAllocator : public Allocator {
 public:
  static DeviceMemoryAllocator* Get() {
    static auto* allocator = new DeviceMemoryAllocator;
    return allocator;
  }
  const char* Name() const override { return "test_device"; }
  void* Allocate(size_t bytes) override { return CpuAllocator()->Allocate(bytes); }
  void Deallocate(void* p, size_t bytes) override { CpuAllocator()->Deallocate(p, bytes); }
  bool HostMemory() const override { return false; }
};

inline NodeDef MakeNode(const std::string& name, const std::string& op,
                        std::vector<std::string> inputs = {}, const Attrs& attrs = {}) {
  NodeDef n;
  n.set_name(name);
  n.set_op(op);
  for (auto& i : inputs) n.add_input(i);
  for (auto& [k, v] : attrs) (*n.mutable_attr())[k] = v;
  return n;
}

template <typename T>
Tensor MakeTensor(const TensorShape& shape, std::initializer_list<T> values) {
  Tensor t(DataTypeToEnum<T>::value, shape);
  EXPECT_EQ(static_cast<int64_t>(values.size()), t.NumElements());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

inline NodeDef ConstNode(const std::string& name, const Tensor& value) {
  AttrValue v;
  value.AsProto(v.mutable_tensor());
  return MakeNode(name, "Const", {}, {{"value", v}, {"dtype", MakeAttr(value.dtype())}});
}

inline NodeDef PlaceholderNode(const std::string& name, DataType dtype,
                               const PartialShape& shape = PartialShape::UnknownRank()) {
  return MakeNode(name, "Placeholder", {},
                  {{"dtype", MakeAttr(dtype)}, {"shape", MakeAttr(shape)}});
}

inline GraphDef MakeGraph(std::initializer_list<NodeDef> nodes) {
  GraphDef g;
  for (const auto& n : nodes) *g.add_node() = n;
  return g;
}

inline absl::StatusOr<std::vector<Tensor>> RunGraph(
    const GraphDef& graph, const std::vector<std::pair<std::string, Tensor>>& feeds,
    const std::vector<std::string>& fetches, const SessionOptions& options = SessionOptions(),
    const std::vector<std::string>& targets = {}) {
  auto session = DirectSession::Create(graph, options);
  if (!session.ok()) return session.status();
  std::vector<Tensor> outputs;
  absl::Status s = (*session)->Run(feeds, fetches, targets, &outputs);
  if (!s.ok()) return s;
  return outputs;
}

template <typename T>
std::vector<T> Values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.NumElements());
}

// EXPECT that `status` failed with `code` and its message contains each of `parts`.
#define EXPECT_STATUS(status_expr, code_value, ...)                       \
  do {                                                                    \
    const ::absl::Status _s = (status_expr);                              \
    EXPECT_EQ(_s.code(), code_value) << _s;                               \
    for (const char* _part : {__VA_ARGS__}) {                             \
      EXPECT_NE(std::string(_s.message()).find(_part), std::string::npos) \
          << "message lacks '" << _part << "': " << _s.message();         \
    }                                                                     \
  } while (0)

}  // namespace runnel::testing
