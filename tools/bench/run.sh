#!/usr/bin/env bash
# Runs a benchmark from tools/bench/ with Runnel from the build tree and its peers from
# the benchmark virtual environment (.venv-bench: tensorflow-cpu, onnxruntime, tf2onnx and
# pyzmq from PyPI; Debian's python3-torch with OpenMP OpenBLAS, so PyTorch does not fight
# itself over threads). tf2onnx goes in without its pinned dependencies, which would
# downgrade TensorFlow's; it converts frozen graphs fine with the ones TensorFlow brings.
# Usage: tools/bench/run.sh executor_overhead.py [args]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv-bench"
if [[ ! -x "$venv/bin/python" ]]; then
  apt-get install -y -qq python3-torch libopenblas0-openmp python3-venv >/dev/null
  /usr/bin/python3 -m venv --system-site-packages "$venv"
  "$venv/bin/pip" install -q tensorflow-cpu tf-keras  # tf_keras: TF1 tf.nn.rnn_cell
fi
if ! "$venv/bin/python" -c "import onnxruntime, onnx, tf2onnx" 2>/dev/null; then
  "$venv/bin/pip" install -q onnxruntime onnx
  "$venv/bin/pip" install -q --no-deps tf2onnx
fi
if ! "$venv/bin/python" -c "import zmq" 2>/dev/null; then
  "$venv/bin/pip" install -q pyzmq  # raw ZeroMQ, the floor distributed_transfer.py measures
fi
if ! "$venv/bin/python" -c "import pyspark, pandas, pyarrow, distributed" 2>/dev/null; then
  # spark.py's engines, pinned as tools/run_tests.sh pins them
  "$venv/bin/pip" install -q pyspark==4.3.0 "dask[distributed]==2026.8.0" pandas==2.3.3 \
    pyarrow==26.0.1 scipy==1.16.3
fi
export PYTHONPATH="$root/build/python${PYTHONPATH:+:$PYTHONPATH}"
export LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-openmp${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
script=$1
shift
exec "$venv/bin/python" "$root/tools/bench/$script" "$@"
