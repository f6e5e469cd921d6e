#!/usr/bin/env bash
# The main job: install what is missing, build, then train a 784-512-512-10 MLP on
# Fashion-MNIST from a TF1-style Python script, save it, restore it in a new process, freeze
# graph + checkpoint into one .pb and evaluate that; inspect the frozen graph
# (runnel-inspect, with an HTML drawing), run it with runnel-run and with a C++ program
# built against the installed package (find_package(Runnel)), and check both give the
# Python session's outputs to 1e-6.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RUNNEL_BUILD_DIR:-$root/build}
"$root/tools/install_deps.sh"
"$root/tools/build.sh"
export PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}"
out="$build/example"
/usr/bin/python3 "$root/tools/examples/fashion_mnist_mlp.py" --out "$out"
/usr/bin/python3 -m runnel.tools.freeze_graph --input_graph "$out/graph.pbtxt" \
  --input_checkpoint "$out/model" --output_node_names logits --output_graph "$out/frozen.pb"
# Also writes the first 100 test images and the Python session's logits for them.
/usr/bin/python3 "$root/tools/examples/fashion_mnist_mlp.py" --frozen "$out/frozen.pb"

echo "== runnel-inspect"
"$build/bin/runnel-inspect" "$out/frozen.pb" --html "$out/frozen.html" --nodes

echo "== runnel-run"
"$build/bin/runnel-run" "$out/frozen.pb" --input "images=$out/test_images.npy" --save "$out"
/usr/bin/python3 "$root/tools/examples/compare_outputs.py" "$out/python_logits.npy" \
  "$out/logits_0.npy"
"$build/bin/runnel-run" "$out/frozen.pb" --batch 100 --benchmark --runs 200 | tail -n +2

echo "== a C++ program built against the installed package"
cmake --install "$build" --prefix "$out/install" >/dev/null
cmake -S "$root/tools/examples/cpp_inference" -B "$out/cpp_inference" -G Ninja \
  -DCMAKE_PREFIX_PATH="$out/install" >/dev/null
cmake --build "$out/cpp_inference" >/dev/null
"$out/cpp_inference/app" "$out/frozen.pb" images "$out/test_images.f32" 100 784 \
  "$out/cpp_logits.f32"
/usr/bin/python3 "$root/tools/examples/compare_outputs.py" "$out/python_logits.npy" \
  "$out/cpp_logits.f32"
echo "main job done: frozen graph $out/frozen.pb, drawing $out/frozen.html"
