#!/usr/bin/env bash
# Runs every test: installs what is missing, builds a normal and an ASan+UBSan build,
# runs ctest on both and exits non-zero if anything fails.
#   MPC_TEST_VECTORS=N   random vectors per scalar operation (default 1,000,000)
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh || exit 1

jobs=$(nproc)
status=0
build() { # build DIR [cmake args...]
  local dir=$1; shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null &&
    cmake --build "$dir" -j"$jobs" -- --no-print-directory >/dev/null
}

echo "== format check"
if ! bash scripts/format.sh --check; then status=1; fi

echo "== release build"
if build build/release -DMPC_TESTS=ON -DMPC_SANITIZE=OFF; then
  ctest --test-dir build/release --output-on-failure -j"$jobs" || status=1
else
  echo "release build failed"; status=1
fi

echo "== sanitizer build (ASan + UBSan)"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if build build/asan -DMPC_TESTS=ON -DMPC_SANITIZE=ON -DMPC_BENCH=OFF; then
  ctest --test-dir build/asan --output-on-failure -j"$jobs" || status=1
else
  echo "sanitizer build failed"; status=1
fi

echo "== fuzz: party-link frame decoder (libFuzzer, ${MPC_FUZZ_SECONDS:-25} s)"
if build build/fuzz -DCMAKE_C_COMPILER=clang -DMPC_FUZZ=ON -DMPC_TESTS=OFF -DMPC_BENCH=OFF; then
  mkdir -p build/fuzz/corpus && cp api/fuzz/corpus/* build/fuzz/corpus/
  if ! build/fuzz/api/fuzz/fuzz_frame -max_total_time="${MPC_FUZZ_SECONDS:-25}" -max_len=4096 \
      -print_final_stats=1 build/fuzz/corpus 2>build/fuzz/fuzz.log; then
    tail -n 40 build/fuzz/fuzz.log; echo "fuzz target found a failure"; status=1
  else
    grep -E "stat::number_of_executed_units|Done" build/fuzz/fuzz.log | tail -n 2
  fi
else
  echo "fuzz build failed"; status=1
fi

if [ $status -eq 0 ]; then echo "== all tests passed"; else echo "== TESTS FAILED"; fi
exit $status
