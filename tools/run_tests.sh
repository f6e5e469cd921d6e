#!/usr/bin/env bash
# Every test: install what is missing, build, then the C++ tests (ctest), the TensorFlow
# parity tests and the other Python tests (pytest). Tests that need ../shared/data skip
# with a message when it is absent.
#
# The parity tests run TensorFlow itself (tensorflow-cpu from PyPI), which Runnel never
# needs: it lives in a virtual environment made once and reused, by default
# ~/.cache/runnel/venv-tensorflow ($RUNNEL_TF_VENV). Where it cannot be installed (no
# network), the parity tests skip with a message. The same way, the tests of runnel.spark,
# runnel.dask and runnel.cluster run in a second environment with pyspark, dask[distributed],
# pandas and pyarrow (~/.cache/runnel/venv-cluster, $RUNNEL_CLUSTER_VENV).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RUNNEL_BUILD_DIR:-$root/build}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/runnel
tf_venv=${RUNNEL_TF_VENV:-$cache/venv-tensorflow}
cluster_venv=${RUNNEL_CLUSTER_VENV:-$cache/venv-cluster}
"$root/tools/install_deps.sh"
"$root/tools/build.sh"

# make_venv DIR WHAT PACKAGES...: a virtual environment over Debian's Python with PACKAGES
# from PyPI, made once (DIR/.installed holds the list, so a changed list makes it again);
# without the network its tests skip.
make_venv() {
  local venv=$1 what=$2
  shift 2
  [[ -f $venv/.installed && $(cat "$venv/.installed") == "$*" ]] && return 0
  echo "run_tests: installing $* into $venv for the $what tests"
  rm -rf "$venv"
  if /usr/bin/python3 -m venv --system-site-packages "$venv" &&
     "$venv/bin/pip" install -q --disable-pip-version-check "$@"; then
    echo "$*" > "$venv/.installed"
  else
    echo "run_tests: could not install them; the $what tests skip"
    rm -rf "$venv"
  fi
}
# tf_keras: TensorFlow 1's tf.nn.rnn_cell, which TensorFlow 2.16+ keeps in Keras 2;
# tensorboard: its event reader checks the event files Runnel writes.
make_venv "$tf_venv" "TensorFlow parity" tensorflow-cpu==2.21.0 tf-keras==2.21.0 \
  tensorboard==2.21.0
# scipy from PyPI too: pyspark.ml imports it, and Debian's is built for numpy 1.
make_venv "$cluster_venv" "Spark and Dask" pyspark==4.3.0 "dask[distributed]==2026.8.0" \
  pandas==2.3.3 pyarrow==26.0.1 numpy==2.4.6 scipy==1.16.3

export PYTHONPATH="$build/python${PYTHONPATH:+:$PYTHONPATH}"
pytest=(-m pytest -q -p no:cacheprovider)
parity=$root/tests/python/test_tensorflow_parity.py
status=0
(cd "$build" && ctest --output-on-failure --parallel "$(nproc)") || status=1
if [[ -f $tf_venv/.installed ]]; then
  echo "== TensorFlow parity tests ($("$tf_venv/bin/pip" show tensorflow-cpu | grep ^Version))"
  "$tf_venv/bin/python" "${pytest[@]}" "$parity" || status=1
  pytest+=(--ignore "$parity")
fi
cluster_tests=("$root"/tests/python/test_{cluster,spark,dask}.py)
if [[ -f $cluster_venv/.installed ]]; then
  echo "== Spark and Dask tests (pyspark $("$cluster_venv/bin/pip" show pyspark | grep ^Version |
    cut -d' ' -f2), dask $("$cluster_venv/bin/pip" show dask | grep ^Version | cut -d' ' -f2))"
  "$cluster_venv/bin/python" "${pytest[@]}" "${cluster_tests[@]}" || status=1
  for test in "${cluster_tests[@]}"; do pytest+=(--ignore "$test"); done
fi
echo "== Python tests"
/usr/bin/python3 "${pytest[@]}" "$root/tests/python" || status=1
exit $status
