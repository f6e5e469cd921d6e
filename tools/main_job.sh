#!/usr/bin/env bash
# The main job: install what is missing, build, then train a 784-512-512-10 MLP on
# Fashion-MNIST from a TF1-style Python script, save it, and restore it in a new process.
# (Freezing and the C++ inference tools join this chain as they land.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install_deps.sh" --with-data
"$root/tools/build.sh"
export PYTHONPATH="${RUNNEL_BUILD_DIR:-$root/build}/python${PYTHONPATH:+:$PYTHONPATH}"
/usr/bin/python3 "$root/tools/examples/fashion_mnist_mlp.py" --out "$root/build/example"
