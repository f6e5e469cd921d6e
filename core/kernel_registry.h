// The kernel registry: (op, device type, dtype constraints) -> factory. Each kernel file
// registers its kernels at its bottom; no central list exists.
//
//   REGISTER_KERNEL(KernelDefBuilder("Relu").Device(kCpu).TypeConstraint<float>("T"),
//                   ReluOp<float>);
//   REGISTER_KERNEL_FOR_TYPES("Relu", kCpu, "T", ReluOp, float, double, int32_t);
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/op_kernel.h"
#include "core/status.h"

namespace runnel {

inline constexpr char kCpu[] = "CPU";
inline constexpr char kGpu[] = "GPU";
// The dtypes a GPU keeps in its own memory. int32 (shapes, indices) stays in host memory
// there, as in TensorFlow: kernels that pass it through take it as a HostMemory argument.
inline const std::vector<DataType> kGpuMemoryTypes = {
    DT_FLOAT, DT_DOUBLE, DT_HALF, DT_BFLOAT16, DT_INT64, DT_BOOL, DT_UINT8, DT_INT8, DT_INT16};

struct KernelDef {
  std::string op;
  std::string device_type;
  // attr name -> the dtypes this kernel accepts for it
  std::vector<std::pair<std::string, std::vector<DataType>>> type_constraints;
  // Input/output arg names kept in host memory (for devices other than CPU).
  std::vector<std::string> host_memory_args;
  // Takes or makes string tensors. Other kernels may copy elements bytewise, so a node
  // with a string input or output only finds kernels that say they handle strings.
  bool allows_strings = false;
};

class KernelDefBuilder {
 public:
  explicit KernelDefBuilder(std::string op) { def_.op = std::move(op); }
  KernelDefBuilder& Device(std::string device_type) {
    def_.device_type = std::move(device_type);
    return *this;
  }
  template <typename T>
  KernelDefBuilder& TypeConstraint(std::string attr) {
    return TypeConstraint(std::move(attr), {DataTypeToEnum<T>::value});
  }
  KernelDefBuilder& TypeConstraint(std::string attr, std::vector<DataType> types) {
    def_.type_constraints.emplace_back(std::move(attr), std::move(types));
    return *this;
  }
  KernelDefBuilder& AllowStrings() {
    def_.allows_strings = true;
    return *this;
  }
  KernelDefBuilder& HostMemory(std::string arg) {
    def_.host_memory_args.push_back(std::move(arg));
    return *this;
  }
  const KernelDef& def() const { return def_; }

 private:
  KernelDef def_;
};

using KernelFactory = std::unique_ptr<OpKernel> (*)();

class KernelRegistry {
 public:
  static KernelRegistry* Global();

  void Register(const KernelDef& def, KernelFactory factory);
  // Finds the kernel for `construction`'s node on `device_type` and initializes it.
  // NOT_FOUND names the op, device and dtypes and lists what is registered.
  absl::StatusOr<std::unique_ptr<OpKernel>> CreateKernel(OpKernelConstruction* construction);
  // The kernel def that would serve a node on `device_type` (its def and its input and
  // output dtypes), or nullptr: the one predicate placement and CreateKernel share.
  const KernelDef* Find(const std::string& device_type, const NodeDef& node,
                        const std::vector<DataType>& input_types,
                        const std::vector<DataType>& output_types) const;
  // Which of a node's inputs and outputs `def` keeps in host memory (its HostMemory args,
  // each expanded to the inputs or outputs it stands for).
  static void HostMemoryArgs(const KernelDef& def, const OpDef& op_def, const NodeDef& node,
                             std::vector<bool>* inputs, std::vector<bool>* outputs);
  // The node's type attrs as kernels are chosen by them ("T=string"), human-readable.
  static std::string DescribeNodeTypes(const NodeDef& node);
  // Registered (device, constraints) for `op`, human-readable.
  std::string DescribeKernels(const std::string& op) const;
  // The kernel defs registered for `op` on `device_type`.
  std::vector<const KernelDef*> KernelDefs(const std::string& op,
                                           const std::string& device_type) const;

 private:
  struct Entry {
    KernelDef def;
    KernelFactory factory;
  };
  const Entry* FindEntry(const std::string& device_type, const NodeDef& node,
                         const std::vector<DataType>& input_types,
                         const std::vector<DataType>& output_types) const;
  std::multimap<std::string, Entry> kernels_;
};

struct KernelRegistrar {
  KernelRegistrar(const KernelDefBuilder& builder, KernelFactory factory) {
    KernelRegistry::Global()->Register(builder.def(), factory);
  }
};

template <typename K>
std::unique_ptr<OpKernel> MakeKernel() {
  return std::make_unique<K>();
}

// Registers K<T> for each T, constraining attr `attr` to T.
template <template <typename> class K, typename... Ts>
bool RegisterKernelForTypes(const char* op, const char* device, const char* attr) {
  (KernelRegistry::Global()->Register(
       KernelDefBuilder(op).Device(device).TypeConstraint<Ts>(attr).def(), &MakeKernel<K<Ts>>),
   ...);
  return true;
}

// Registers K<T, Index> for each T and for Index in {int32, int64}, constraining `type_attr`
// to T and `index_attr` to Index (ops indexed by int32 or int64 tensors).
template <template <typename, typename> class K, typename... Ts>
bool RegisterKernelForTypesAndIndices(const char* op, const char* device, const char* type_attr,
                                      const char* index_attr) {
  auto register_both = [&](auto zero) {
    using T = decltype(zero);
    KernelRegistry::Global()->Register(KernelDefBuilder(op)
                                           .Device(device)
                                           .TypeConstraint(type_attr, {DataTypeToEnum<T>::value})
                                           .TypeConstraint(index_attr, {DT_INT32})
                                           .def(),
                                       &MakeKernel<K<T, int32_t>>);
    KernelRegistry::Global()->Register(KernelDefBuilder(op)
                                           .Device(device)
                                           .TypeConstraint(type_attr, {DataTypeToEnum<T>::value})
                                           .TypeConstraint(index_attr, {DT_INT64})
                                           .def(),
                                       &MakeKernel<K<T, int64_t>>);
  };
  (register_both(Ts{}), ...);
  return true;
}

// Registers `factory`, a kernel that touches no element (it forwards, reshapes, reads
// shapes or holds a reference), for a GPU too: over kGpuMemoryTypes (`type_attr`; none:
// any) with `host_args` in host memory, and over int32 with `int32_args` in host memory
// as well.
bool RegisterForGpu(const char* op, const char* type_attr,
                    const std::vector<std::string>& host_args,
                    const std::vector<std::string>& int32_args, KernelFactory factory);

#define REGISTER_KERNEL_FOR_TYPES_AND_INDICES(op, device, type_attr, index_attr, kernel, ...) \
  static bool RN_CONCAT(rn_kernels_registered_, __COUNTER__) =                                \
      ::runnel::RegisterKernelForTypesAndIndices<kernel, __VA_ARGS__>(op, device, type_attr,  \
                                                                      index_attr)

#define REGISTER_KERNEL(builder, ...)                                            \
  static ::runnel::KernelRegistrar RN_CONCAT(rn_kernel_registrar_, __COUNTER__)( \
      builder, &::runnel::MakeKernel<__VA_ARGS__>)

#define REGISTER_KERNEL_FOR_TYPES(op, device, attr, kernel, ...) \
  static bool RN_CONCAT(rn_kernels_registered_, __COUNTER__) =   \
      ::runnel::RegisterKernelForTypes<kernel, __VA_ARGS__>(op, device, attr)

}  // namespace runnel
