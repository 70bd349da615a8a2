#!/usr/bin/env bash
# A long fuzz campaign: the round targets (or MPC_FUZZ_TARGETS: any target scripts/test.sh
# lists, e.g. fuzz_ethtx fuzz_eip712 fuzz_tsslib fuzz_head) one after the other,
# one process at a time, at low priority, each for MPC_FUZZ_LONG_SECONDS (default 240)
# or until MPC_FUZZ_LONG_RUNS inputs (default: no limit). The corpus of each target
# persists in build/fuzz/corpus-long/<target> (seeded from tss/fuzz/regress/), so
# campaigns resume; crashes land in build/fuzz/crash-long/. Prints runs, runs/s and edges
# per target and the totals; exits non-zero if a target found a failure. MPC_FUZZ_BUILD
# names the build directory (default build/fuzz; configured and built here).
#   MPC_FUZZ_TARGETS="fuzz_dkg_r2 fuzz_sign_r1" MPC_FUZZ_LONG_SECONDS=600 scripts/fuzz-long.sh
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${MPC_FUZZ_LONG_SECONDS:-240}
runs=${MPC_FUZZ_LONG_RUNS:--1}
targets=${MPC_FUZZ_TARGETS:-fuzz_dkg_r1 fuzz_dkg_r2 fuzz_dkg_r3 fuzz_dkg_r4 fuzz_sign_r1 fuzz_sign_r2 fuzz_sign_r3
  fuzz_reshare_r1 fuzz_reshare_r2 fuzz_reshare_r3 fuzz_reshare_r4}
dir=${MPC_FUZZ_BUILD:-build/fuzz}
cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DMPC_FUZZ=ON \
  -DMPC_TESTS=OFF -DMPC_BENCH=OFF >/dev/null && cmake --build "$dir" -j2 >/dev/null || {
  echo "fuzz build failed"; exit 1; }
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$dir/crash-long"
status=0 total=0 total_s=0
for name in $targets; do
  # where each target is built (scripts/test.sh's list names them with their directory)
  exe=$(find "$dir" -path "$dir/corpus*" -prune -o -type f -name "$name" -perm -u+x -print | head -n 1)
  [ -n "$exe" ] || { echo "$name: no such fuzz target in $dir"; status=1; continue; }
  case $name in fuzz_dkg_* | fuzz_sign_* | fuzz_reshare_*) max_len=64 ;; *) max_len=65536 ;; esac
  corpus=$dir/corpus-long/$name
  mkdir -p "$corpus"
  # seeds as scripts/test.sh takes them: the target's regress/, seeds/ and corpus/
  src=${exe#"$dir"/}
  src=${src%/*}
  for seeds in "$src/regress/$name" "$src/seeds/$name"; do
    if [ -d "$seeds" ]; then cp -n "$seeds"/* "$corpus"/; fi
  done
  case $name in
  fuzz_frame | fuzz_head) cp -n "$src"/corpus/* "$corpus"/ ;;
  fuzz_rest) cp -n api/fuzz/rest_corpus/* "$corpus"/ ;;
  esac
  log=$dir/$name.long.log
  start=$(date +%s)
  if nice -n 10 "$exe" -max_total_time="$seconds" -runs="$runs" -max_len=$max_len \
      -print_final_stats=1 -artifact_prefix="$dir/crash-long/$name-" "$corpus" 2>"$log"; then
    result="no failure"
  else
    result="FAILURE (see $log)"; status=1
  fi
  elapsed=$(($(date +%s) - start))
  n=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n 1)
  total=$((total + ${n:-0})) total_s=$((total_s + elapsed))
  echo "$name: $(bash scripts/fuzz-stats.sh "$log") in ${elapsed} s, $result"
done
echo "total: $total runs in $total_s s"
exit $status
