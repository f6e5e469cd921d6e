#!/usr/bin/env bash
# Installs the Debian packages Runnel builds and tests with, and any named as arguments
# (tools/fuzz.sh asks for clang); does nothing when all are there.
set -euo pipefail

packages=(cmake ninja-build g++ make  # GCC's parallel LTO link (-flto=auto) runs make
          libprotobuf-dev protobuf-compiler libeigen3-dev libzmq3-dev
          cppzmq-dev pybind11-dev libabsl-dev libgtest-dev python3-dev python3-numpy
          python3-pytest python3-protobuf libdnnl-dev ccache libjpeg62-turbo-dev libpng-dev
          ocl-icd-opencl-dev     # Debian's oneDNN CMake config asks for OpenCL
          chromium python3-pil   # tests: headless pages of runnel-inspect --html, and an
                                 # independent JPEG/PNG codec for the image ops
          python3-matplotlib     # keras.utils.plot_history's learning curves
          python3-venv           # the tests' TensorFlow and Spark environments (run_tests.sh)
          openjdk-17-jre-headless  # Spark, for the runnel.spark tests
          dataset-fashion-mnist  # the examples, the main job and their tests
          "$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "install_deps: installing ${missing[*]}"
sudo_cmd=()
[[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
