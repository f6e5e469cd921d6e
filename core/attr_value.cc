#include "core/attr_value.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/status.h"

namespace runnel {
namespace {

const char* ValueCaseName(AttrValue::ValueCase c) {
  switch (c) {
    case AttrValue::kS:
      return "string";
    case AttrValue::kI:
      return "int";
    case AttrValue::kF:
      return "float";
    case AttrValue::kB:
      return "bool";
    case AttrValue::kType:
      return "type";
    case AttrValue::kShape:
      return "shape";
    case AttrValue::kTensor:
      return "tensor";
    case AttrValue::kList:
      return "list";
    case AttrValue::kFunc:
      return "func";
    case AttrValue::kPlaceholder:
      return "placeholder";
    default:
      return "nothing";
  }
}

}  // namespace

const AttrValue* AttrSlice::Find(const std::string& name) const {
  auto it = node_->attr().find(name);
  return it == node_->attr().end() ? nullptr : &it->second;
}

absl::StatusOr<const AttrValue*> AttrSlice::FindOrError(const std::string& name,
                                                        AttrValue::ValueCase expected) const {
  const AttrValue* value = Find(name);
  if (value == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("node '", node_->name(), "' (", node_->op(), ") has no attr '", name, "'"));
  }
  // An empty list attr may arrive with no value set at all.
  if (value->value_case() != expected &&
      !(expected == AttrValue::kList && value->value_case() == AttrValue::VALUE_NOT_SET)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "attr '", name, "' of node '", node_->name(), "' (", node_->op(), ") should be a ",
        ValueCaseName(expected), ", is a ", ValueCaseName(value->value_case())));
  }
  return value;
}

absl::Status AttrSlice::Get(const std::string& name, int64_t* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kI));
  *out = v->i();
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, int32_t* out) const {
  int64_t v;
  RETURN_IF_ERROR(Get(name, &v));
  *out = static_cast<int32_t>(v);
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, float* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kF));
  *out = v->f();
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, bool* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kB));
  *out = v->b();
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, std::string* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kS));
  *out = v->s();
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, DataType* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kType));
  *out = v->type();
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, PartialShape* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kShape));
  *out = PartialShape::FromProto(v->shape());
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, const TensorProto** out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kTensor));
  *out = &v->tensor();
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, std::vector<int64_t>* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kList));
  out->assign(v->list().i().begin(), v->list().i().end());
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, std::vector<int32_t>* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kList));
  out->assign(v->list().i().begin(), v->list().i().end());
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, std::vector<DataType>* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kList));
  out->clear();
  for (int t : v->list().type()) out->push_back(static_cast<DataType>(t));
  return absl::OkStatus();
}

absl::Status AttrSlice::Get(const std::string& name, std::vector<std::string>* out) const {
  ASSIGN_OR_RETURN(const AttrValue* v, FindOrError(name, AttrValue::kList));
  out->assign(v->list().s().begin(), v->list().s().end());
  return absl::OkStatus();
}

AttrValue MakeAttr(int64_t value) {
  AttrValue a;
  a.set_i(value);
  return a;
}
AttrValue MakeAttr(float value) {
  AttrValue a;
  a.set_f(value);
  return a;
}
AttrValue MakeAttr(bool value) {
  AttrValue a;
  a.set_b(value);
  return a;
}
AttrValue MakeAttr(const std::string& value) {
  AttrValue a;
  a.set_s(value);
  return a;
}
AttrValue MakeAttr(const char* value) { return MakeAttr(std::string(value)); }
AttrValue MakeAttr(DataType value) {
  AttrValue a;
  a.set_type(value);
  return a;
}
AttrValue MakeAttr(const PartialShape& value) {
  AttrValue a;
  value.AsProto(a.mutable_shape());
  return a;
}
AttrValue MakeAttr(const std::vector<int64_t>& value) {
  AttrValue a;
  auto* list = a.mutable_list();
  for (int64_t v : value) list->add_i(v);
  return a;
}
AttrValue MakeAttr(const std::vector<std::string>& value) {
  AttrValue a;
  auto* list = a.mutable_list();
  for (const std::string& v : value) list->add_s(v);
  return a;
}
AttrValue MakeAttr(const std::vector<DataType>& value) {
  AttrValue a;
  auto* list = a.mutable_list();
  for (DataType v : value) list->add_type(v);
  return a;
}

bool AttrValueHasType(const AttrValue& value, const std::string& type) {
  if (type.rfind("list(", 0) == 0) {
    if (value.value_case() == AttrValue::VALUE_NOT_SET) return true;
    if (value.value_case() != AttrValue::kList) return false;
    const auto& l = value.list();
    int kinds = (l.s_size() > 0) + (l.i_size() > 0) + (l.f_size() > 0) + (l.b_size() > 0) +
                (l.type_size() > 0) + (l.shape_size() > 0) + (l.tensor_size() > 0) +
                (l.func_size() > 0);
    if (kinds == 0) return true;
    std::string elem = type.substr(5, type.size() - 6);
    if (elem == "string") return l.s_size() > 0;
    if (elem == "int") return l.i_size() > 0;
    if (elem == "float") return l.f_size() > 0;
    if (elem == "bool") return l.b_size() > 0;
    if (elem == "type") return l.type_size() > 0;
    if (elem == "shape") return l.shape_size() > 0;
    if (elem == "tensor") return l.tensor_size() > 0;
    if (elem == "func") return l.func_size() > 0;
    return false;
  }
  return type == ValueCaseName(value.value_case());
}

std::string AttrValueSummary(const AttrValue& value) {
  switch (value.value_case()) {
    case AttrValue::kS:
      return absl::StrCat("'", value.s(), "'");
    case AttrValue::kI:
      return absl::StrCat(value.i());
    case AttrValue::kF:
      return absl::StrCat(value.f());
    case AttrValue::kB:
      return value.b() ? "true" : "false";
    case AttrValue::kType:
      return DataTypeString(value.type());
    case AttrValue::kShape:
      return PartialShape::FromProto(value.shape()).DebugString();
    case AttrValue::kTensor:
      return absl::StrCat("<tensor ", DataTypeString(value.tensor().dtype()), " ",
                          PartialShape::FromProto(value.tensor().tensor_shape()).DebugString(),
                          ">");
    case AttrValue::kList: {
      const auto& l = value.list();
      if (l.i_size() > 0) return absl::StrCat("[", absl::StrJoin(l.i(), ","), "]");
      if (l.f_size() > 0) return absl::StrCat("[", absl::StrJoin(l.f(), ","), "]");
      if (l.s_size() > 0) return absl::StrCat("['", absl::StrJoin(l.s(), "','"), "']");
      if (l.type_size() > 0) {
        std::vector<std::string> names;
        for (int t : l.type()) names.push_back(DataTypeString(static_cast<DataType>(t)));
        return absl::StrCat("[", absl::StrJoin(names, ","), "]");
      }
      return "[]";
    }
    default:
      return "<unset>";
  }
}

}  // namespace runnel
