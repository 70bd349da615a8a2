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

# Every decoder and every protocol round has a libFuzzer target; each runs briefly
# (MPC_FUZZ_SECONDS, default 20), seeded from its regression inputs. The round targets
# (fuzz_dkg_r*, fuzz_sign_r*, fuzz_reshare_r*) mutate one message of a recorded honest
# transcript; their inputs are short edit lists (-max_len=64). Long campaigns:
# scripts/fuzz-long.sh.
echo "== fuzz targets (libFuzzer + ASan/UBSan, ${MPC_FUZZ_SECONDS:-20} s each)"
if build build/fuzz -DCMAKE_C_COMPILER=clang -DMPC_FUZZ=ON -DMPC_TESTS=OFF -DMPC_BENCH=OFF; then
  for target in api/fuzz/fuzz_frame api/fuzz/fuzz_rest api/fuzz/fuzz_rest_sign api/fuzz/fuzz_import \
      daemon/signerd/fuzz/fuzz_policy daemon/signerd/fuzz/fuzz_stagekey \
      tss/fuzz/fuzz_keyshare tss/fuzz/fuzz_receive \
      tss/fuzz/fuzz_dkg_r1 tss/fuzz/fuzz_dkg_r2 tss/fuzz/fuzz_dkg_r3 tss/fuzz/fuzz_dkg_r4 \
      tss/fuzz/fuzz_sign_r1 tss/fuzz/fuzz_sign_r2 tss/fuzz/fuzz_sign_r3 \
      tss/fuzz/fuzz_reshare_r1 tss/fuzz/fuzz_reshare_r2 tss/fuzz/fuzz_reshare_r3 \
      tss/fuzz/fuzz_reshare_r4 daemon/common/fuzz/fuzz_ethtx daemon/common/fuzz/fuzz_eip712 \
      daemon/common/fuzz/fuzz_tsslib daemon/hubd/fuzz/fuzz_head daemon/ctl/fuzz/fuzz_dealer; do
    name=${target##*/}
    corpus=build/fuzz/corpus/$name
    mkdir -p "$corpus"
    if [ -d "${target%/*}/corpus" ] && { [ "$name" = fuzz_frame ] || [ "$name" = fuzz_head ]; }; then cp "${target%/*}"/corpus/* "$corpus"/; fi
    if [ "$name" = fuzz_rest ]; then cp api/fuzz/rest_corpus/* "$corpus"/; fi
    if [ -d "${target%/*}/regress/$name" ]; then cp "${target%/*}/regress/$name"/* "$corpus"/; fi
    if [ -d "${target%/*}/seeds/$name" ]; then cp "${target%/*}/seeds/$name"/* "$corpus"/; fi
    case $name in fuzz_dkg_* | fuzz_sign_* | fuzz_reshare_*) max_len=64 ;; *) max_len=65536 ;; esac
    if ! "build/fuzz/$target" -max_total_time="${MPC_FUZZ_SECONDS:-20}" -max_len=$max_len \
        -print_final_stats=1 -artifact_prefix=build/fuzz/ "$corpus" 2>"build/fuzz/$name.log"; then
      tail -n 40 "build/fuzz/$name.log"; echo "$name found a failure"; status=1
    else
      echo "$name: $(bash scripts/fuzz-stats.sh "build/fuzz/$name.log"), no failure"
    fi
  done
else
  echo "fuzz build failed"; status=1
fi

if [ $status -eq 0 ]; then echo "== all tests passed"; else echo "== TESTS FAILED"; fi
exit $status
