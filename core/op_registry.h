// The op registry: the single source of truth for what ops exist. An op is declared once,
// in the TensorFlow style, next to its shape function and gradient:
//
//   REGISTER_OP("Relu").Input("features: T").Output("activations: T")
//       .Attr("T: {float, double, int32, int64}")
//       .SetShapeFn(shape_fn::Unchanged)
//       .Doc("max(features, 0), elementwise.");
//
// Python wrappers, tool documentation and the differentiable-op list are derived from it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/proto/op_def.pb.h"
#include "core/shape_inference.h"
#include "core/status.h"

namespace runnel {

class GradientContext;  // defined by autodiff
using ShapeFn = std::function<absl::Status(InferenceContext*)>;
using GradientFn = std::function<absl::Status(GradientContext*)>;

struct OpRegistration {
  OpDef op_def;
  ShapeFn shape_fn;
  // Empty: no gradient is defined (an error if gradients must flow through the op).
  GradientFn gradient_fn;
  // False for ops declared not differentiable: gradients stop there, silently.
  bool differentiable = false;
  // TensorFlow's public Python names for the op ("math.rsqrt", "rsqrt"): the runnel package
  // exports its generated function under each (runnel.math.rsqrt, runnel.rsqrt).
  std::vector<std::string> python_endpoints;
};

class OpDefBuilder {
 public:
  explicit OpDefBuilder(std::string name) { reg_.op_def.set_name(std::move(name)); }

  // "x: T", "x: float", "values: N * T", "args: Tlist", "ref: Ref(T)".
  OpDefBuilder& Input(std::string spec);
  OpDefBuilder& Output(std::string spec);
  // "T: {float, double}", "N: int >= 1", "transpose_a: bool = false",
  // "padding: {'SAME', 'VALID'}", "dtype: type", "shape: shape = { unknown_rank: true }",
  // "squeeze_dims: list(int) >= 0 = []".
  OpDefBuilder& Attr(std::string spec);
  OpDefBuilder& SetShapeFn(ShapeFn fn);
  OpDefBuilder& SetGradient(GradientFn fn);
  // Gradients stop at this op (its outputs are piecewise constant or integer-like).
  OpDefBuilder& SetNoGradient();
  OpDefBuilder& SetIsStateful();
  OpDefBuilder& SetIsCommutative();
  OpDefBuilder& SetIsAggregate();
  OpDefBuilder& Doc(std::string summary);
  // The op's public Python names, as in TensorFlow: a module path below the package and
  // the name ("nn.relu"; "rsqrt" for the top level).
  OpDefBuilder& Endpoints(std::vector<std::string> names);
  // Applies a shared signature, e.g. .Apply(BinaryCwise("{float, double}")).
  OpDefBuilder& Apply(const std::function<void(OpDefBuilder&)>& signature) {
    signature(*this);
    return *this;
  }

  // Parses the specs; fails with a message naming the op and the bad spec.
  absl::StatusOr<OpRegistration> Finalize() const;

 private:
  OpRegistration reg_;
  std::vector<std::string> inputs_, outputs_, attrs_;
};

class OpRegistry {
 public:
  static OpRegistry* Global();

  absl::Status Register(OpRegistration reg);
  // NOT_FOUND naming the nearest registered op when `op` is unknown.
  absl::StatusOr<const OpRegistration*> LookUp(const std::string& op) const;
  std::vector<const OpRegistration*> All() const;

 private:
  std::map<std::string, std::unique_ptr<OpRegistration>> ops_;
};

// Registers at static-initialization time; a malformed declaration is a bug in Runnel
// itself and stops the process with the parse error.
struct OpRegistrar {
  OpRegistrar(const OpDefBuilder& builder);  // NOLINT: used by REGISTER_OP
};

#define REGISTER_OP(name)                                                 \
  static ::runnel::OpRegistrar RN_CONCAT(rn_op_registrar_, __COUNTER__) = \
      ::runnel::OpDefBuilder(name)

// The registered op name closest to `name` by edit distance, or "" if none is close.
std::string NearestName(const std::string& name, const std::vector<std::string>& candidates);

}  // namespace runnel
