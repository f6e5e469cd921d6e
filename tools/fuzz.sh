#!/usr/bin/env bash
# Runs fuzz targets (tools/fuzz/*_fuzzer.cc) under libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer:
#   tools/fuzz.sh NAME [SECONDS] [libFuzzer flags...]   NAME: model_fuzzer, image_fuzzer,
#                                                        tensor_proto_fuzzer, wire_fuzzer
#   tools/fuzz.sh all [SECONDS]                          each target for SECONDS (default 60)
# The first run builds build-fuzz/ with clang (Debian's clang and libclang-rt-14-dev,
# installed when missing). Each target's corpus grows in build-fuzz/corpus/NAME, started
# from tools/fuzz/seeds/NAME and regressions/NAME (and ../shared/data's graphs and photo
# when there). A crash, leak or hang leaves its input in build-fuzz/artifacts/ and fails
# the run: fix it and keep the input, minimized (build-fuzz/fuzz/NAME
# -minimize_crash=1 -runs=10000 INPUT), in tools/fuzz/regressions/NAME/, which ctest replays.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${RUNNEL_FUZZ_BUILD_DIR:-$root/build-fuzz}
name=${1:?usage: tools/fuzz.sh NAME|all [SECONDS] [libFuzzer flags...]}
seconds=${2:-60}
shift $(( $# < 2 ? $# : 2 ))

"$root/tools/install_deps.sh" clang libclang-rt-14-dev
if [[ ! -f $build/build.ninja ]]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRUNNEL_FUZZ=ON -DRUNNEL_SANITIZE=address,undefined -DRUNNEL_CUDA=OFF \
    -DRUNNEL_BUILD_TESTS=OFF >/dev/null
fi
if [[ $name == all ]]; then
  targets=()
  for source in "$root"/tools/fuzz/*_fuzzer.cc; do targets+=("$(basename "$source" .cc)"); done
else
  targets=("$name")
fi
cmake --build "$build" --parallel "$(nproc)" --target "${targets[@]}"

# Allocations past 2 GiB fail (as malloc does on a smaller machine) instead of aborting:
# Runnel must turn them into errors.
export ASAN_OPTIONS=allocator_may_return_null=1:max_allocation_size_mb=2048:detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
shared=$root/../shared/data
status=0
for target in "${targets[@]}"; do
  corpus=$build/corpus/$target
  mkdir -p "$corpus" "$build/artifacts"
  seeds=()
  for dir in "$root/tools/fuzz/seeds/$target" "$root/tools/fuzz/regressions/$target"; do
    [[ -d $dir ]] && seeds+=("$dir")
  done
  if [[ -d $shared ]]; then  # the real files: a TensorFlow graph, a photo per JPEG decoder
    case $target in
      model_fuzzer) cp "$shared/tf-frozen/mnist_mlp.pb" "$corpus/shared_mnist_mlp.pb" ;;
      image_fuzzer)
        for decoder in 0 1 2; do
          { printf "\\x0$decoder"; cat "$shared/tf-frozen/granny_smith.jpg"; } \
            > "$corpus/shared_granny_smith_$decoder"
        done ;;
    esac
  fi
  echo "== $target, ${seconds}s (log: $build/$target.log)"
  "$build/fuzz/$target" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=4096 \
    -malloc_limit_mb=4096 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" \
    "$@" "$corpus" "${seeds[@]}" > "$build/$target.log" 2>&1 || status=1
  grep -E "^#[0-9]+ +DONE|^stat::(number_of_executed_units|peak_rss)|ERROR|SUMMARY|written to" \
    "$build/$target.log" || true
done
exit $status
