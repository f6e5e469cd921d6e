// Device names: "/job:localhost/replica:0/task:0/device:CPU:0" and the partial specs users
// write ("/cpu:0", "/device:GPU:1", "/job:ps", "/device:CPU:*").
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace runnel {

struct DeviceName {
  std::string job;   // "" = any
  int replica = -1;  // -1 = any
  int task = -1;
  std::string type;  // "CPU", "GPU"; "" = any
  int id = -1;

  static absl::StatusOr<DeviceName> Parse(const std::string& spec);
  // The canonical full name; unspecified parts are left out.
  std::string ToString() const;
  // True if every part `spec` specifies equals ours.
  bool Matches(const DeviceName& spec) const;
  // The spec both `a` and `b` describe (each part from whichever sets it); an error when
  // they set a part differently.
  static absl::StatusOr<DeviceName> Merge(const DeviceName& a, const DeviceName& b);
};

}  // namespace runnel
