// The call frame carries a step's feeds in and its fetches out: the session replaces each
// fed tensor with an _Arg node and each fetch with a _Retval node that read and write here.
#pragma once

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/tensor.h"

namespace runnel {

class CallFrame {
 public:
  CallFrame(std::vector<Tensor> args, int num_retvals)
      : args_(std::move(args)), retvals_(num_retvals) {}

  int num_args() const { return static_cast<int>(args_.size()); }
  const Tensor& arg(int i) const { return args_[i]; }
  absl::Status SetRetval(int i, const Tensor& value) {
    if (i < 0 || i >= static_cast<int>(retvals_.size())) {
      return absl::InternalError(absl::StrCat("retval index ", i, " out of range"));
    }
    retvals_[i] = value;
    return absl::OkStatus();
  }
  std::vector<Tensor>& retvals() { return retvals_; }

 private:
  std::vector<Tensor> args_;
  std::vector<Tensor> retvals_;
};

}  // namespace runnel
