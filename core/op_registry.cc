#include "core/op_registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/types.h"
#include "google/protobuf/text_format.h"

namespace runnel {

OpDefBuilder& OpDefBuilder::Input(std::string spec) {
  inputs_.push_back(std::move(spec));
  return *this;
}
OpDefBuilder& OpDefBuilder::Output(std::string spec) {
  outputs_.push_back(std::move(spec));
  return *this;
}
OpDefBuilder& OpDefBuilder::Attr(std::string spec) {
  attrs_.push_back(std::move(spec));
  return *this;
}
OpDefBuilder& OpDefBuilder::SetShapeFn(ShapeFn fn) {
  reg_.shape_fn = std::move(fn);
  return *this;
}
OpDefBuilder& OpDefBuilder::SetGradient(GradientFn fn) {
  reg_.gradient_fn = std::move(fn);
  reg_.differentiable = true;
  return *this;
}
OpDefBuilder& OpDefBuilder::SetNoGradient() {
  reg_.gradient_fn = [](GradientContext*) { return absl::OkStatus(); };
  reg_.differentiable = false;
  return *this;
}
OpDefBuilder& OpDefBuilder::SetIsStateful() {
  reg_.op_def.set_is_stateful(true);
  return *this;
}
OpDefBuilder& OpDefBuilder::SetIsCommutative() {
  reg_.op_def.set_is_commutative(true);
  return *this;
}
OpDefBuilder& OpDefBuilder::SetIsAggregate() {
  reg_.op_def.set_is_aggregate(true);
  return *this;
}
OpDefBuilder& OpDefBuilder::Doc(std::string summary) {
  reg_.op_def.set_summary(std::move(summary));
  return *this;
}
OpDefBuilder& OpDefBuilder::Endpoints(std::vector<std::string> names) {
  reg_.python_endpoints = std::move(names);
  return *this;
}

namespace {

std::string Trim(absl::string_view s) { return std::string(absl::StripAsciiWhitespace(s)); }

// Parses one default value written in the spec for an attr of `type`.
absl::Status ParseDefault(const std::string& type, const std::string& text, AttrValue* out) {
  auto bad = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse default '", text, "' for attr type ", type));
  };
  auto unquote = [](const std::string& s) -> std::optional<std::string> {
    if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) {
      return s.substr(1, s.size() - 2);
    }
    return std::nullopt;
  };
  if (absl::StartsWith(type, "list(")) {
    std::string elem = type.substr(5, type.size() - 6);
    if (text.size() < 2 || text.front() != '[' || text.back() != ']') return bad();
    auto* list = out->mutable_list();
    std::string body = Trim(text.substr(1, text.size() - 2));
    if (body.empty()) return absl::OkStatus();
    for (absl::string_view piece : absl::StrSplit(body, ',')) {
      AttrValue item;
      RETURN_IF_ERROR(ParseDefault(elem, Trim(piece), &item));
      if (elem == "int")
        list->add_i(item.i());
      else if (elem == "float")
        list->add_f(item.f());
      else if (elem == "string")
        list->add_s(item.s());
      else if (elem == "type")
        list->add_type(item.type());
      else if (elem == "bool")
        list->add_b(item.b());
      else
        return bad();
    }
    return absl::OkStatus();
  }
  if (type == "int") {
    int64_t v;
    if (!absl::SimpleAtoi(text, &v)) return bad();
    out->set_i(v);
  } else if (type == "float") {
    float v;
    if (!absl::SimpleAtof(text, &v)) return bad();
    out->set_f(v);
  } else if (type == "bool") {
    if (text != "true" && text != "false") return bad();
    out->set_b(text == "true");
  } else if (type == "string") {
    auto s = unquote(text);
    if (!s) return bad();
    out->set_s(*s);
  } else if (type == "type") {
    ASSIGN_OR_RETURN(DataType dt, DataTypeFromString(text));
    out->set_type(dt);
  } else if (type == "shape") {
    std::string body = text;
    if (absl::StartsWith(body, "{") && absl::EndsWith(body, "}")) {
      body = body.substr(1, body.size() - 2);
    }
    if (!google::protobuf::TextFormat::ParseFromString(body, out->mutable_shape())) return bad();
  } else if (type == "tensor") {  // a TensorProto in text format, in braces
    if (text.size() < 2 || text.front() != '{' || text.back() != '}') return bad();
    const std::string body = text.substr(1, text.size() - 2);
    if (!google::protobuf::TextFormat::ParseFromString(body, out->mutable_tensor())) return bad();
  } else {
    return bad();
  }
  return absl::OkStatus();
}

// "name: spec = default" for attrs.
absl::Status ParseAttr(const std::string& spec, OpDef::AttrDef* attr) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("missing ':'");
  attr->set_name(Trim(spec.substr(0, colon)));
  std::string rest = Trim(spec.substr(colon + 1));
  std::string default_text;
  // A '=' inside braces or quotes belongs to the type, e.g. allowed strings never hold '='.
  size_t eq = std::string::npos;
  int depth = 0;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '{' || rest[i] == '[' || rest[i] == '(') ++depth;
    if (rest[i] == '}' || rest[i] == ']' || rest[i] == ')') --depth;
    if (rest[i] == '=' && depth == 0 && (i == 0 || rest[i - 1] != '>')) {
      eq = i;
      break;
    }
  }
  if (eq != std::string::npos) {
    default_text = Trim(rest.substr(eq + 1));
    rest = Trim(rest.substr(0, eq));
  }
  size_t ge = rest.find(">=");
  if (ge != std::string::npos) {
    int64_t minimum;
    if (!absl::SimpleAtoi(Trim(rest.substr(ge + 2)), &minimum)) {
      return absl::InvalidArgumentError("bad minimum");
    }
    attr->set_has_minimum(true);
    attr->set_minimum(minimum);
    rest = Trim(rest.substr(0, ge));
  }
  if (absl::StartsWith(rest, "{")) {
    // Allowed values: types, or quoted strings.
    std::string body = rest.substr(1, rest.size() - 2);
    auto* allowed = attr->mutable_allowed_values()->mutable_list();
    bool strings = body.find('\'') != std::string::npos;
    attr->set_type(strings ? "string" : "type");
    for (absl::string_view piece : absl::StrSplit(body, ',')) {
      std::string p = Trim(piece);
      if (strings) {
        allowed->add_s(p.substr(1, p.size() - 2));
      } else {
        ASSIGN_OR_RETURN(DataType dt, DataTypeFromString(p));
        allowed->add_type(dt);
      }
    }
  } else {
    static const char* kTypes[] = {"string", "int",   "float",  "bool",
                                   "type",   "shape", "tensor", "func"};
    std::string base = rest;
    if (absl::StartsWith(rest, "list(") && absl::EndsWith(rest, ")")) {
      base = rest.substr(5, rest.size() - 6);
    }
    if (std::find(std::begin(kTypes), std::end(kTypes), base) == std::end(kTypes)) {
      return absl::InvalidArgumentError(absl::StrCat("unknown attr type '", rest, "'"));
    }
    attr->set_type(rest);
  }
  if (!default_text.empty()) {
    RETURN_IF_ERROR(ParseDefault(attr->type(), default_text, attr->mutable_default_value()));
  }
  return absl::OkStatus();
}

const OpDef::AttrDef* FindAttr(const OpDef& op, const std::string& name) {
  for (const auto& a : op.attr()) {
    if (a.name() == name) return &a;
  }
  return nullptr;
}

// "name: T", "name: N * T", "name: float", "name: Tlist", "name: Ref(T)".
absl::Status ParseArg(const std::string& spec, const OpDef& op, OpDef::ArgDef* arg) {
  size_t colon = spec.find(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("missing ':'");
  arg->set_name(Trim(spec.substr(0, colon)));
  std::string type = Trim(spec.substr(colon + 1));
  if (absl::StartsWith(type, "Ref(") && absl::EndsWith(type, ")")) {
    arg->set_is_ref(true);
    type = Trim(type.substr(4, type.size() - 5));
  }
  size_t star = type.find('*');
  if (star != std::string::npos) {
    std::string number = Trim(type.substr(0, star));
    const auto* n = FindAttr(op, number);
    if (n == nullptr || n->type() != "int") {
      return absl::InvalidArgumentError(absl::StrCat("'", number, "' is not an int attr"));
    }
    arg->set_number_attr(number);
    type = Trim(type.substr(star + 1));
  }
  if (const auto* attr = FindAttr(op, type)) {
    if (attr->type() == "type") {
      arg->set_type_attr(type);
    } else if (attr->type() == "list(type)" && arg->number_attr().empty()) {
      arg->set_type_list_attr(type);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("attr '", type, "' is not a type"));
    }
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(DataType dt, DataTypeFromString(type));
  arg->set_type(dt);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<OpRegistration> OpDefBuilder::Finalize() const {
  OpRegistration reg = reg_;
  OpDef& op = reg.op_def;
  auto fail = [&](const std::string& what, const std::string& spec, const absl::Status& s) {
    return absl::InvalidArgumentError(
        absl::StrCat("op ", op.name(), ": bad ", what, " spec '", spec, "': ", s.message()));
  };
  for (const auto& spec : attrs_) {
    absl::Status s = ParseAttr(spec, op.add_attr());
    if (!s.ok()) return fail("attr", spec, s);
  }
  for (const auto& spec : inputs_) {
    absl::Status s = ParseArg(spec, op, op.add_input_arg());
    if (!s.ok()) return fail("input", spec, s);
  }
  for (const auto& spec : outputs_) {
    absl::Status s = ParseArg(spec, op, op.add_output_arg());
    if (!s.ok()) return fail("output", spec, s);
  }
  if (!reg.shape_fn) reg.shape_fn = shape_fn::Unknown;
  return reg;
}

OpRegistry* OpRegistry::Global() {
  static OpRegistry* registry = new OpRegistry;
  return registry;
}

absl::Status OpRegistry::Register(OpRegistration reg) {
  std::string name = reg.op_def.name();
  if (ops_.count(name) > 0) {
    return absl::AlreadyExistsError(absl::StrCat("op '", name, "' is registered twice"));
  }
  ops_[name] = std::make_unique<OpRegistration>(std::move(reg));
  return absl::OkStatus();
}

absl::StatusOr<const OpRegistration*> OpRegistry::LookUp(const std::string& op) const {
  auto it = ops_.find(op);
  if (it != ops_.end()) return it->second.get();
  std::vector<std::string> names;
  for (const auto& [name, reg] : ops_) names.push_back(name);
  std::string nearest = NearestName(op, names);
  return absl::NotFoundError(
      absl::StrCat("unknown op '", op, "'",
                   nearest.empty() ? "" : absl::StrCat("; did you mean '", nearest, "'?")));
}

std::vector<const OpRegistration*> OpRegistry::All() const {
  std::vector<const OpRegistration*> all;
  for (const auto& [name, reg] : ops_) all.push_back(reg.get());
  return all;
}

OpRegistrar::OpRegistrar(const OpDefBuilder& builder) {
  absl::StatusOr<OpRegistration> reg = builder.Finalize();
  absl::Status status = reg.ok() ? OpRegistry::Global()->Register(*std::move(reg)) : reg.status();
  if (!status.ok()) {
    std::fprintf(stderr, "runnel: invalid op registration: %s\n", status.ToString().c_str());
    std::abort();
  }
}

std::string NearestName(const std::string& name, const std::vector<std::string>& candidates) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> before_prev(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        size_t sub = prev[j - 1] + (absl::ascii_tolower(a[i - 1]) != absl::ascii_tolower(b[j - 1]));
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
        // A swap of neighbours ("Reul" for "Relu") costs one edit.
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
          cur[j] = std::min(cur[j], before_prev[j - 2] + 1);
        }
      }
      before_prev = prev;
      std::swap(prev, cur);
    }
    return prev[b.size()];
  };
  std::string best;
  size_t best_distance = std::max<size_t>(2, name.size() / 3) + 1;
  for (const auto& c : candidates) {
    size_t d = distance(name, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

}  // namespace runnel
