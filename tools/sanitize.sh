#!/usr/bin/env bash
# The test suite under sanitizers, in a build of its own (GCC, no CUDA):
#   tools/sanitize.sh [address,undefined]   every C++ test and the Python tests
#   tools/sanitize.sh thread                the C++ tests of what runs on several threads:
#                                           executor, sessions, rendezvous, cancellation,
#                                           allocators, the transport and clusters
# Any report fails the test that made it. Python runs with the sanitizer's runtime
# preloaded (its interpreter is not instrumented; leaks are checked in C++ tests only,
# since Python keeps its objects at exit). Not in tools/run_tests.sh: the build alone takes
# longer than the rest of CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-address,undefined}
build=${RUNNEL_SANITIZE_BUILD_DIR:-$root/build-sanitize-${kind//,/-}}
"$root/tools/install_deps.sh"
if [[ ! -f $build/build.ninja ]]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRUNNEL_SANITIZE="$kind" -DRUNNEL_CUDA=OFF >/dev/null
fi
cmake --build "$build" --parallel "$(nproc)"

export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
if [[ $kind == thread ]]; then
  # Suppressed: races TSan cannot see ordered inside uninstrumented libraries (see the file).
  export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tools/tsan.supp
  (cd "$build" && ctest --output-on-failure --parallel "$(nproc)" \
     -R "Executor|Session|Rendezvous|Cancellation|Partition|Transport|Cluster|Inference|Allocator|ResourceManager|Variables|SendRecv") ||
    status=1
  exit $status
fi
# Tests that ask for more memory than there is expect an error, not an abort.
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1
(cd "$build" && ctest --output-on-failure --parallel "$(nproc)") || status=1
echo "== Python tests under $kind"
# The sanitizer's runtime must come first, and libstdc++ with it (Python does not link it,
# and ASan intercepts its exception throwing). Reports go to files: pytest would capture
# one printed by a test whose process it ends.
reports=$build/sanitizer-report
rm -f "$reports".*
ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0:log_path=$reports \
  UBSAN_OPTIONS=$UBSAN_OPTIONS:log_path=$reports \
  LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libstdc++.so)" \
  PYTHONPATH="$build/python" RUNNEL_BUILD_DIR="$build" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
  "$root/tests/python" --ignore "$root/tests/python/test_tensorflow_parity.py" \
  --ignore "$root/tests/python/test_spark.py" --ignore "$root/tests/python/test_dask.py" \
  --ignore "$root/tests/python/test_cluster.py" || status=1
if compgen -G "$reports.*" >/dev/null; then
  cat "$reports".*
  status=1
fi
exit $status
