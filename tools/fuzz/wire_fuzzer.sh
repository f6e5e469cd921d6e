#!/bin/sh
# Builds the worker protocol's decoder fuzzer with clang (libFuzzer + AddressSanitizer)
# against the build tree's librunnel.so, and runs it: tools/fuzz/wire_fuzzer.sh [SECONDS]
set -e
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${RUNNEL_BUILD_DIR:-$root/build}
out=$build/fuzz
mkdir -p "$out/corpus"
clang++ -std=c++17 -g -O1 -fsanitize=fuzzer,address -I"$root" -I"$build" \
  "$root/tests/distributed/wire_fuzzer.cc" "$root/distributed/wire.cc" \
  "$build/librunnel_proto.a" -L"$build/lib" -Wl,-rpath,"$build/lib" -lrunnel \
  $(pkg-config --libs protobuf absl_status absl_statusor absl_strings 2>/dev/null || echo -lprotobuf) \
  -o "$out/wire_fuzzer"
"$out/wire_fuzzer" -max_total_time="${1:-60}" -max_len=4096 "$out/corpus"
