#!/usr/bin/env bash
# tests/systemd/check_tmpfiles.sh SYSTEMD_DIR
# Applies the shipped sysusers.d and tmpfiles.d files to an empty root (never to this
# machine) and checks the result: the system users, the signer in group tss, and each
# directory with the owner, group and mode the units and the operator guide rely on.
set -u
src=$1
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir "$root/etc"
cat "$src"/mpc-signer.sysusers.conf "$src"/mpc-hub.sysusers.conf |
  systemd-sysusers --root="$root" - >/dev/null 2>&1 || { echo "systemd-sysusers failed"; exit 1; }
out=$(cat "$src"/mpc-signer.tmpfiles.conf "$src"/mpc-hub.tmpfiles.conf |
  systemd-tmpfiles --root="$root" --create - 2>&1)
[ -z "$out" ] || { echo "systemd-tmpfiles: $out"; exit 1; }
uid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/passwd"; }
gid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/group"; }
grep -q '^tss:[^:]*:[0-9]*:.*mpc-signer' "$root/etc/group" || { echo "mpc-signer not in tss"; exit 1; }
status=0
expect() { # expect PATH MODE UID GID
  local got
  got=$(stat -c '%a %u %g' "$root$1" 2>/dev/null)
  if [ "$got" != "$2 $3 $4" ]; then
    echo "$1: got '$got', want '$2 $3 $4'"; status=1
  else
    echo "$1: $2 $3:$4"
  fi
}
expect /etc/mpc-signer 750 0 "$(gid mpc-signer)"
expect /var/lib/mpc-signer 700 "$(uid mpc-signer)" "$(gid mpc-signer)"
expect /etc/mpc-hub 750 0 "$(gid mpc-hub)"
expect /var/lib/mpc-hub 700 "$(uid mpc-hub)" "$(gid mpc-hub)"
exit $status
