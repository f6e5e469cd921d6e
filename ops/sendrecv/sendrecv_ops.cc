// Ops the runtime inserts: _Send/_Recv at cross-device cuts, _Arg/_Retval for a step's
// feeds and fetches. Users never write these.
#include "core/op_registry.h"

namespace runnel {
namespace {

// The attrs that make up a rendezvous key, shared by both ends of a transfer.
void TransferAttrs(OpDefBuilder& b) {
  b.Attr("tensor_name: string")
      .Attr("send_device: string")
      .Attr("send_device_incarnation: int")
      .Attr("recv_device: string")
      .Attr("client_terminated: bool = false")
      .SetIsStateful();
}

}  // namespace

REGISTER_OP("_Send")
    .Input("tensor: T")
    .Attr("T: type")
    .Apply(TransferAttrs)
    .Doc("Sends `tensor` to the rendezvous under a key naming both devices.");

REGISTER_OP("_Recv")
    .Output("tensor: tensor_type")
    .Attr("tensor_type: type")
    .Apply(TransferAttrs)
    .Doc("Receives a tensor from the rendezvous.");

REGISTER_OP("_Arg")
    .Output("output: T")
    .Attr("T: type")
    .Attr("index: int >= 0")
    .SetIsStateful()
    .Doc("The step's fed value number `index`.");

REGISTER_OP("_Retval")
    .Input("input: T")
    .Attr("T: type")
    .Attr("index: int >= 0")
    .SetIsStateful()
    .Doc("Returns `input` as the step's fetched value number `index`.");

}  // namespace runnel
