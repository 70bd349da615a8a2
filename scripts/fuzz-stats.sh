#!/usr/bin/env bash
# Summarises a libFuzzer log (run with -print_final_stats=1): runs, runs per second and
# edges (the last "cov:" figure), e.g. "123456 runs, 6172 runs/s, 912 edges".
set -euo pipefail
log=$1
runs=$(awk '/stat::number_of_executed_units/ {print $2}' "$log" | tail -n 1)
rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$log" | tail -n 1)
edges=$(grep -oE 'cov: [0-9]+' "$log" | tail -n 1 | awk '{print $2}')
echo "${runs:-?} runs, ${rate:-?} runs/s, ${edges:-?} edges"
