#!/usr/bin/env bash
# Gathers what the GPU check needs on a machine without this one's packages into
# build/gpu-bundle (under 64 MiB): the GPU tests, the benchmark's driver (gpu_train),
# runnel-run and the models gpu_export.py writes, librunnel and its GPU plug-in, and the
# shared libraries they need beyond the C and C++ runtimes, except cuBLAS and cuDNN (half
# a gigabyte), which tools/gpu/check.sh finds there (PyTorch's wheels carry them).
# Usage (after a CUDA build): tools/gpu/bundle.sh; then, on the GPU machine, carrying
# build/gpu-bundle: bash tools/gpu/check.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${RUNNEL_BUILD_DIR:-$root/build}
out=$build/gpu-bundle
[[ -f $build/lib/librunnel_gpu.so ]] || { echo "no $build/lib/librunnel_gpu.so: build with CUDA first" >&2; exit 1; }
cmake --build "$build" --target gpu_train gpu_tests runnel_gpu runnel-run >/dev/null
rm -rf "$out"
mkdir -p "$out/lib" "$out/bin" "$out/graphs"
PYTHONPATH="$build/python" /usr/bin/python3 "$root/tools/bench/gpu_export.py" "$out/graphs" >/dev/null
cp "$build/tests/gpu_tests" "$build/tools/gpu_train" "$build/bin/runnel-run" "$out/bin/"
cp "$build/lib/librunnel.so" "$build/lib/librunnel_gpu.so" "$out/lib/"
ldd "$out"/bin/* "$build/lib/librunnel_gpu.so" | awk '/=> \//{print $3}' | sort -u |
  grep -v -E '/(libc|libm|libdl|librt|libpthread|libgcc_s|libstdc\+\+)\.so|/ld-linux|libcublas|libcudnn' |
  grep -v -F "$build/" | xargs -r cp -L -t "$out/lib/"
du -sh "$out"
