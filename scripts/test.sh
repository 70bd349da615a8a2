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

if [ $status -eq 0 ]; then echo "== all tests passed"; else echo "== TESTS FAILED"; fi
exit $status
