// CURVE keys of a cluster, in a directory `runnel-server --keygen DIR` makes and every
// member of the cluster gets a copy of:
//   server.key, server.key_secret   the servers' key pair (clients check the public half)
//   client.key, client.key_secret   this member's client key pair
//   authorized_clients              the client public keys servers accept, one per line
// Secret files are written mode 0600. A client with another key pair connects only once
// its public key is added to every server's authorized_clients.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "distributed/transport.h"

namespace runnel {

absl::Status WriteCurveKeys(const std::string& dir);
// Fills `options`' CURVE fields from `dir` (nothing when `dir` is empty).
absl::Status LoadCurveKeys(const std::string& dir, TransportOptions* options);

}  // namespace runnel
