// Typed access to node attributes (the `attr` map of a NodeDef) and builders for AttrValue.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "core/proto/attr_value.pb.h"
#include "core/proto/node_def.pb.h"
#include "core/tensor_shape.h"
#include "core/types.h"

namespace runnel {

using AttrMap = google::protobuf::Map<std::string, AttrValue>;

// Read-only view of a node's attributes; errors name the node and the attribute.
class AttrSlice {
 public:
  explicit AttrSlice(const NodeDef& node) : node_(&node) {}
  const NodeDef& node() const { return *node_; }
  const AttrValue* Find(const std::string& name) const;
  bool Has(const std::string& name) const { return Find(name) != nullptr; }

  absl::Status Get(const std::string& name, int64_t* value) const;
  absl::Status Get(const std::string& name, int32_t* value) const;
  absl::Status Get(const std::string& name, float* value) const;
  absl::Status Get(const std::string& name, bool* value) const;
  absl::Status Get(const std::string& name, std::string* value) const;
  absl::Status Get(const std::string& name, DataType* value) const;
  absl::Status Get(const std::string& name, PartialShape* value) const;
  absl::Status Get(const std::string& name, const TensorProto** value) const;
  absl::Status Get(const std::string& name, std::vector<int64_t>* value) const;
  absl::Status Get(const std::string& name, std::vector<int32_t>* value) const;
  absl::Status Get(const std::string& name, std::vector<DataType>* value) const;
  absl::Status Get(const std::string& name, std::vector<std::string>* value) const;

 private:
  absl::StatusOr<const AttrValue*> FindOrError(const std::string& name,
                                               AttrValue::ValueCase expected) const;
  const NodeDef* node_;
};

AttrValue MakeAttr(int64_t value);
AttrValue MakeAttr(float value);
AttrValue MakeAttr(bool value);
AttrValue MakeAttr(const std::string& value);
AttrValue MakeAttr(const char* value);
AttrValue MakeAttr(DataType value);
AttrValue MakeAttr(const PartialShape& value);
AttrValue MakeAttr(const std::vector<int64_t>& value);
AttrValue MakeAttr(const std::vector<DataType>& value);
AttrValue MakeAttr(const std::vector<std::string>& value);

// True if `value` holds what an attribute of OpDef type `type` ("int", "list(type)", ...)
// holds. An empty list matches every list type.
bool AttrValueHasType(const AttrValue& value, const std::string& type);
// Short human form: "3", "float", "[1,2]", "'SAME'".
std::string AttrValueSummary(const AttrValue& value);

}  // namespace runnel
