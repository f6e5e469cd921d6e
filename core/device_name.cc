#include "core/device_name.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace runnel {

absl::StatusOr<DeviceName> DeviceName::Parse(const std::string& spec) {
  DeviceName name;
  auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("bad device spec '", spec, "': ", why));
  };
  auto parse_id = [](absl::string_view s, int* out) {
    if (s == "*") {
      *out = -1;
      return true;
    }
    return absl::SimpleAtoi(s, out) && *out >= 0;
  };
  for (absl::string_view part : absl::StrSplit(spec, '/', absl::SkipEmpty())) {
    std::vector<absl::string_view> kv = absl::StrSplit(part, ':');
    std::string key = absl::AsciiStrToLower(kv[0]);
    if (key == "job" && kv.size() == 2) {
      name.job = std::string(kv[1]);
    } else if (key == "replica" && kv.size() == 2) {
      if (!parse_id(kv[1], &name.replica)) return bad("replica must be a number");
    } else if (key == "task" && kv.size() == 2) {
      if (!parse_id(kv[1], &name.task)) return bad("task must be a number");
    } else if (key == "device" && (kv.size() == 2 || kv.size() == 3)) {
      name.type = absl::AsciiStrToUpper(kv[1]);
      if (kv.size() == 3 && !parse_id(kv[2], &name.id)) return bad("device id must be a number");
    } else if ((key == "cpu" || key == "gpu") && kv.size() <= 2) {
      name.type = absl::AsciiStrToUpper(key);
      if (kv.size() == 2 && !parse_id(kv[1], &name.id)) return bad("device id must be a number");
    } else if (kv.size() == 2 && absl::AsciiStrToUpper(kv[0]) == kv[0]) {  // "CPU:0"
      name.type = std::string(kv[0]);
      if (!parse_id(kv[1], &name.id)) return bad("device id must be a number");
    } else {
      return bad(absl::StrCat("unknown part '", part, "'"));
    }
  }
  return name;
}

std::string DeviceName::ToString() const {
  std::string out;
  if (!job.empty()) absl::StrAppend(&out, "/job:", job);
  if (replica >= 0) absl::StrAppend(&out, "/replica:", replica);
  if (task >= 0) absl::StrAppend(&out, "/task:", task);
  if (!type.empty()) {
    absl::StrAppend(&out, "/device:", type, ":", id >= 0 ? absl::StrCat(id) : "*");
  }
  return out;
}

bool DeviceName::Matches(const DeviceName& spec) const {
  return (spec.job.empty() || spec.job == job) && (spec.replica < 0 || spec.replica == replica) &&
         (spec.task < 0 || spec.task == task) && (spec.type.empty() || spec.type == type) &&
         (spec.id < 0 || spec.id == id);
}

absl::StatusOr<DeviceName> DeviceName::Merge(const DeviceName& a, const DeviceName& b) {
  DeviceName out = a;
  bool ok = true;
  auto merge_string = [&](std::string* into, const std::string& other) {
    if (into->empty()) *into = other;
    ok &= other.empty() || *into == other;
  };
  auto merge_int = [&](int* into, int other) {
    if (*into < 0) *into = other;
    ok &= other < 0 || *into == other;
  };
  merge_string(&out.job, b.job);
  merge_int(&out.replica, b.replica);
  merge_int(&out.task, b.task);
  merge_string(&out.type, b.type);
  merge_int(&out.id, b.id);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", a.ToString(), "' and '", b.ToString(), "' name different devices"));
  }
  return out;
}

}  // namespace runnel
