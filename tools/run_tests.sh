#!/usr/bin/env bash
# Every test: install what is missing, build, then the C++ tests (ctest) and the Python
# tests (pytest). Tests that need ../shared/data skip with a message when it is absent.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RUNNEL_BUILD_DIR:-$root/build}
"$root/tools/install_deps.sh"
"$root/tools/build.sh"
status=0
(cd "$build" && ctest --output-on-failure --parallel "$(nproc)") || status=1
PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}" \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider "$root/tests/python" || status=1
exit $status
