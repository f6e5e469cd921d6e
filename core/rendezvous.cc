#include "core/rendezvous.h"

#include "absl/strings/str_cat.h"

namespace runnel {

std::string Rendezvous::CreateKey(const std::string& src_device, uint64_t src_incarnation,
                                  const std::string& dst_device, const std::string& tensor_name,
                                  const std::string& frame_iter) {
  return absl::StrCat(src_device, ";", absl::Hex(src_incarnation, absl::kZeroPad16), ";",
                      dst_device, ";", tensor_name, ";", frame_iter);
}

}  // namespace runnel
