#!/usr/bin/env bash
# tests/systemd/check_units.sh UNIT BINARY [BINARY_PATH_IN_UNIT]
# Checks a shipped unit file offline, as DESIGN.md asks: `systemd-analyze verify` must be
# silent (unknown keys only warn, so any output on stderr fails), and the offline
# security review must score at most 2.0. The unit's ExecStart binary is replaced by the
# one just built (verify checks that it exists and is executable). Drop-ins named in
# $UNIT_DROPINS (space-separated files) are appended to the unit before both checks, so a
# shipped drop-in is held to the same bar as the unit it extends.
set -u
unit=$1 binary=$2 installed=${3:-/usr/bin/$(basename "$binary")}
if ! command -v systemd-analyze >/dev/null; then
  echo "systemd-analyze not installed"; exit 1
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
name=$(basename "$unit")
sed "s|$installed|$binary|g" "$unit" > "$dir/$name"
for d in ${UNIT_DROPINS:-}; do
  { echo; cat "$d"; } >> "$dir/$name"
  name_note=" + $(basename "$d")"
done

# Documentation=man:... must name a page this tree ships (man/), found through MANPATH.
mandir=$(cd "$(dirname "$unit")/../man" 2>/dev/null && pwd)
if [ -n "$mandir" ]; then
  for page in "$mandir"/*.[1-8]; do
    [ -e "$page" ] || continue
    mkdir -p "$dir/man/man${page##*.}"
    ln -s "$page" "$dir/man/man${page##*.}/"
  done
fi
out=$(MANPATH=$dir/man systemd-analyze verify "$dir/$name" 2>&1 >/dev/null)
if [ -n "$out" ]; then
  echo "systemd-analyze verify $name:"; echo "$out"; exit 1
fi
echo "verify $name${name_note:-}: clean"

report=$(systemd-analyze security --offline=true --threshold=20 "$dir/$name" 2>&1)
rc=$?
echo "$report" | tail -n 1
if [ $rc -ne 0 ]; then
  echo "$report" | grep '✗'; echo "$name: exposure above 2.0"; exit 1
fi
exit 0
