#!/usr/bin/env bash
# tests/packaging/lint_udev.sh RULES_DIR
# Lints udev rules files without touching a device (../shared/notes/PLATFORM.md): udevadm
# 252 has no `verify`, so in a private mount namespace the rules directory is bound over
# /etc/udev/rules.d and `udevadm test` runs on a device path that does not exist; every
# "FILE:LINE ..." complaint about one of our files fails the test. /etc/group is replaced
# inside the namespace by a copy with group mpc-signer added (the package's sysusers file
# creates it on a real node), so "Unknown group" is a failure too. Never run `udevadm test`
# on a real device path: it writes into /dev and /run.
# The lint also checks itself: a rules file with one bad key must be reported.
set -u
rules=$(cd "$1" && pwd)
for t in udevadm unshare mount; do
  command -v $t >/dev/null || { echo "$t not installed"; exit 1; }
done
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

lint() { # lint DIR: prints the complaints about files in DIR
  cp /etc/group "$dir/group"
  grep -q '^mpc-signer:' "$dir/group" || echo 'mpc-signer:x:999:' >> "$dir/group"
  unshare -m sh -c 'mount --make-rprivate / && mount --bind "$1" /etc/udev/rules.d &&
    mount --bind "$2" /etc/group && udevadm test /sys/devices/nonexistent 2>&1' sh "$1" "$dir/group" |
    grep -E '^/etc/udev/rules\.d/[^ ]+:[0-9]+ '
}

mkdir "$dir/bad"
printf 'ACTION=="add", NOSUCHKEY=="x", GROUP="mpc-signer"\n' > "$dir/bad/99-bad.rules"
if ! lint "$dir/bad" | grep -q '99-bad.rules:1 '; then
  echo "the lint does not see an invalid key: udevadm's output changed?"; exit 1
fi

n=$(ls "$rules"/*.rules 2>/dev/null | wc -l)
[ "$n" -gt 0 ] || { echo "no rules in $rules"; exit 1; }
out=$(lint "$rules")
if [ -n "$out" ]; then
  echo "$out"; exit 1
fi
# Every rule that sets a group hands the device to mpc-signer and tags it for systemd.
if grep -E '^[^#].*GROUP=' "$rules"/*.rules | grep -v -e 'GROUP="mpc-signer"' | grep -q .; then
  echo "a rule gives a device to another group"; exit 1
fi
if grep -E '^[^#].*GROUP=' "$rules"/*.rules | grep -v -e 'TAG+="systemd"' | grep -q .; then
  echo "a rule lacks TAG+=\"systemd\""; exit 1
fi
echo "udev rules: $n file(s), $(grep -c -E '^[^#].*GROUP=' "$rules"/*.rules | awk -F: '{s+=$NF} END {print s}') device rule(s), no complaints"
