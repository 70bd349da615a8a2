#!/usr/bin/env bash
# clang-format over the project's C sources. --check: report files that differ, exit 1.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null | sort -u)
[ ${#files[@]} -gt 0 ] || exit 0
if [ "${1:-}" = "--check" ]; then
  bad=0
  for f in "${files[@]}"; do
    if ! clang-format --style=file "$f" | cmp -s - "$f"; then echo "not formatted: $f"; bad=1; fi
  done
  [ $bad -eq 0 ] || echo "run scripts/format.sh to fix"
  exit $bad
fi
clang-format --style=file -i "${files[@]}"
