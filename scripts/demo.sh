#!/usr/bin/env bash
# The main job. Until the signer daemon lands this is the threshold core's self-check and
# benchmark: install what is missing, build, then run tss-bench (which checks itself first
# and exits non-zero if any known answer is wrong).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPC_TESTS=OFF >/dev/null
cmake --build build/demo -j"$(nproc)" --target tss-bench -- --no-print-directory >/dev/null
exec build/demo/bench/tss-bench "$@"
