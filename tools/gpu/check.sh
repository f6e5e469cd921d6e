#!/usr/bin/env bash
# The GPU check, run on the GPU machine from the repository root with build/gpu-bundle
# carried there (tools/gpu/bundle.sh): finds cuBLAS and cuDNN (a CUDA installation or
# PyTorch's nvidia-* wheels), shows the GPU and what the plug-in resolves to, and runs the
# `gpu` tests (every GPU kernel against the CPU's). Writes its log to $OUT when set.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bundle=$root/build/gpu-bundle
log=${OUT:-/tmp}/gpu-check.log
exec > >(tee "$log") 2>&1
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
dirs=$(find /usr/local/cuda*/lib* /usr/lib/x86_64-linux-gnu \
            $(python3 -c 'import site; print(" ".join(site.getsitepackages()))' 2>/dev/null) \
            -name 'libcublas.so.*' -o -name 'libcublasLt.so.*' -o -name 'libcudnn.so.*' \
            2>/dev/null | xargs -r -n1 dirname | sort -u | tr '\n' ':')
echo "cuBLAS/cuDNN directories: $dirs"
export LD_LIBRARY_PATH="$bundle/lib:${dirs}${LD_LIBRARY_PATH:-}"
ldd "$bundle/lib/librunnel_gpu.so" | grep -E 'not found|cublas|cudnn|runnel'
"$bundle/bin/gpu_tests" --gtest_color=no
