#!/usr/bin/env bash
# The main job: install what is missing, build, then train a 784-512-512-10 MLP on
# Fashion-MNIST from a TF1-style Python script, save it, restore it in a new process, freeze
# graph + checkpoint into one .pb and evaluate that. (The C++ inference tools join this
# chain as they land.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/tools/install_deps.sh" --with-data
"$root/tools/build.sh"
export PYTHONPATH="${RUNNEL_BUILD_DIR:-$root/build}/python${PYTHONPATH:+:$PYTHONPATH}"
out="$root/build/example"
/usr/bin/python3 "$root/tools/examples/fashion_mnist_mlp.py" --out "$out"
/usr/bin/python3 -m runnel.tools.freeze_graph --input_graph "$out/graph.pbtxt" \
  --input_checkpoint "$out/model" --output_node_names logits --output_graph "$out/frozen.pb"
/usr/bin/python3 "$root/tools/examples/fashion_mnist_mlp.py" --frozen "$out/frozen.pb"
