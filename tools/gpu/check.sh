#!/usr/bin/env bash
# The GPU check, run on the GPU machine from the repository root with build/gpu-bundle
# carried there (tools/gpu/bundle.sh): finds cuBLAS and cuDNN (a CUDA installation or
# PyTorch's nvidia-* wheels), shows the GPU and what the plug-in resolves to, and runs the
# `gpu` tests (every GPU kernel against the CPU's), then the benchmark: the MLP and the
# deep-MNIST CNN trained and served by Runnel on the GPU (gpu_train, runnel-run) against
# PyTorch on the same GPU (tools/bench/gpu_torch.py). Writes its log to $OUT when set.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=$root/build/gpu-bundle
log=${OUT:-/tmp}/gpu-check.log
exec > >(tee "$log") 2>&1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
python3 -c 'import torch; print("PyTorch", torch.__version__, "CUDA", torch.version.cuda)' || true
dirs=$(find /usr/local/cuda*/lib* /usr/lib/x86_64-linux-gnu \
            $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
            -name 'libcublas.so.*' -o -name 'libcublasLt.so.*' -o -name 'libcudnn.so.*' \
            2>/dev/null | xargs -r -n1 dirname | sort -u | tr '\n' ':')
echo "cuBLAS/cuDNN directories: $dirs"
export LD_LIBRARY_PATH="$bundle/lib:${dirs}${LD_LIBRARY_PATH:-}"
ldd "$bundle/lib/librunnel_gpu.so" | grep -E 'not found|cublas|cudnn|runnel'
# Each test case in its own process, so that one crash does not hide the others.
echo "== gpu tests"
failed=0
for test in $("$bundle/bin/gpu_tests" --gtest_list_tests | awk '/^[^ ]/{suite=$1} /^  /{print suite $1}'); do
  if timeout 300 "$bundle/bin/gpu_tests" --gtest_color=no --gtest_filter="$test" > /tmp/gpu-test.log 2>&1 &&
     ! grep -q "SKIPPED \]" /tmp/gpu-test.log; then
    echo "ok      $test"
  else
    failed=$((failed + 1))
    echo "FAILED  $test"
    sed -n '/\[ RUN/,$p' /tmp/gpu-test.log | head -40
  fi
done
echo "gpu tests failed or skipped: $failed"

echo "== benchmark (median step of 50; ratio = Runnel's examples/s over PyTorch's)"
graphs=$bundle/graphs
{
  for model in mlp cnn; do
    for args in "" "--infer 1" "--infer 256"; do
      line=$("$bundle/bin/gpu_train" "$graphs/${model}_train.spec" $args) &&
        echo "${line%\}}, \"model\": \"$model\"}"
    done
  done
} > /tmp/runnel-gpu.jsonl
python3 "$root/tools/bench/gpu_torch.py" > /tmp/torch-gpu.jsonl
python3 - /tmp/runnel-gpu.jsonl /tmp/torch-gpu.jsonl <<'PY'
import json, sys
def load(path):
    return {(r["model"], r["mode"], r["batch"]): r for r in map(json.loads, open(path))}
runnel, torch = load(sys.argv[1]), load(sys.argv[2])
print(f"{'model':6}{'mode':7}{'batch':>6}{'Runnel ms':>11}{'PyTorch ms':>12}{'ratio':>8}")
for key in sorted(set(runnel) | set(torch)):
    r, t = runnel.get(key), torch.get(key)
    ratio = f"{t['ms'] / r['ms']:.2f}x" if r and t else "-"
    print(f"{key[0]:6}{key[1]:7}{key[2]:>6}{r['ms'] if r else float('nan'):>11.3f}"
          f"{t['ms'] if t else float('nan'):>12.3f}{ratio:>8}")
PY
echo "== runnel-run --benchmark (the C++ inference API) on the frozen MLP"
for batch in 1 256; do
  "$bundle/bin/runnel-run" "$graphs/mlp_infer.pb" --batch "$batch" --benchmark --runs 200 | head -5
done

