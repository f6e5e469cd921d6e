#!/usr/bin/env bash
# Every test: install what is missing, build, then the C++ tests (ctest), the TensorFlow
# parity tests and the other Python tests (pytest). Tests that need ../shared/data skip
# with a message when it is absent.
#
# The parity tests run TensorFlow itself (tensorflow-cpu from PyPI), which Runnel never
# needs: it lives in a virtual environment made once and reused, by default
# ~/.cache/runnel/venv-tensorflow ($RUNNEL_TF_VENV). Where it cannot be installed (no
# network), the parity tests skip with a message.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RUNNEL_BUILD_DIR:-$root/build}
tf_venv=${RUNNEL_TF_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/runnel/venv-tensorflow}
"$root/tools/install_deps.sh"
"$root/tools/build.sh"

if [[ ! -f $tf_venv/.installed ]]; then
  echo "run_tests: installing tensorflow-cpu into $tf_venv for the parity tests"
  rm -rf "$tf_venv"
  if /usr/bin/python3 -m venv --system-site-packages "$tf_venv" &&
     "$tf_venv/bin/pip" install -q --disable-pip-version-check tensorflow-cpu==2.21.0; then
    touch "$tf_venv/.installed"
  else
    echo "run_tests: could not install TensorFlow; its parity tests skip"
    rm -rf "$tf_venv"
  fi
fi

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
echo "== Python tests"
/usr/bin/python3 "${pytest[@]}" "$root/tests/python" || status=1
exit $status
