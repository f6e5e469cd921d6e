#!/usr/bin/env bash
# The main job: install what is missing, build, and run the Fashion-MNIST example, which
# builds a classifier graph in Python, runs it with the C++ runtime and saves the graph.
# (Training, freezing and the C++ inference tools join this chain as they land.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install_deps.sh" --with-data
"$root/tools/build.sh"
export PYTHONPATH="${RUNNEL_BUILD_DIR:-$root/build}/python${PYTHONPATH:+:$PYTHONPATH}"
/usr/bin/python3 "$root/tools/examples/fashion_mnist_centroids.py" --out "$root/build/example"
