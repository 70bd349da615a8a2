#!/usr/bin/env bash
# tests/packaging/live_systemd.sh BUILD_DIR — the units under a real systemd.
# This machine's PID 1 is not systemd, so the test boots one: systemd-nspawn (package
# systemd-container) on an overlay of this machine's root (every write lands in a
# temporary upper directory; this machine is not changed), with a private network and
# the machine's enabled services masked. Inside, live_inside.sh installs the packages
# built from BUILD_DIR, enrols a node on a swtpm, starts mpc-hubd.service and
# mpc-signerd.service, signs once with a second signer, upgrades and purges.
# Opt-in (MPC_LIVE_SYSTEMD=1; ctest -R packaging_live_systemd): it boots a container and
# mounts an overlay, which a shared CI machine should not do unasked. ~40 s.
# Exit 77 (skipped) when not asked for, or without systemd-nspawn or overlayfs.
set -u
[ "${MPC_LIVE_SYSTEMD:-0}" = 1 ] || { echo "set MPC_LIVE_SYSTEMD=1 to run: skipped"; exit 77; }
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
command -v systemd-nspawn >/dev/null || { echo "systemd-nspawn not installed: skipped"; exit 77; }
base=$(mktemp -d /var/tmp/mpc-live.XXXXXX)
mkdir "$base/upper" "$base/work" "$base/merged"
nspawn_pid=
cleanup() {
  if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
    kill -TERM "$nspawn_pid" 2>/dev/null # nspawn forwards it: the container powers off
    for _ in $(seq 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$nspawn_pid" 2>/dev/null
  fi
  umount "$base/merged" 2>/dev/null
  rm -rf "$base"
}
trap cleanup EXIT
if ! mount -t overlay overlay -o lowerdir=/,upperdir="$base/upper",workdir="$base/work" \
    "$base/merged" 2>/dev/null; then
  echo "cannot mount an overlay of /: skipped"; exit 77
fi
m=$base/merged
for u in $(systemctl list-unit-files --root=/ --state=enabled --no-legend 2>/dev/null | awk '{print $1}'); do
  case $u in *.service | *.timer) ln -sf /dev/null "$m/etc/systemd/system/$u" ;; esac
done
# Docker-style images refuse service actions in maintainer scripts; a node does not.
rm -f "$m/usr/sbin/policy-rc.d"
mkdir -p "$m/var/tmp/mpc-live"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$base/deb" >"$base/cpack.log" 2>&1 ||
  { cat "$base/cpack.log"; exit 1; }
cp "$base"/deb/*.deb "$here/live_inside.sh" "$m/var/tmp/mpc-live/"

systemd-nspawn -D "$m" --boot --register=no --keep-unit --private-network -M mpc-live \
  >"$base/console.log" 2>&1 </dev/null &
nspawn_pid=$!
leader=
for _ in $(seq 300); do
  # nspawn's first child is a short-lived intermediate; the leader is the one running systemd
  leader=$(ps --ppid "$nspawn_pid" -o pid=,comm= 2>/dev/null | awk '$2 == "systemd" {print $1}')
  [ -n "$leader" ] && break
  sleep 0.1
done
[ -n "$leader" ] || { cat "$base/console.log"; echo "the container did not start"; exit 1; }
state=
for _ in $(seq 300); do
  state=$(nsenter -t "$leader" -a systemctl is-system-running 2>/dev/null)
  case $state in running | degraded) break ;; esac
  sleep 0.1
done
echo "container booted: systemd $state (PID 1 in the container is $(nsenter -t "$leader" -a ps -p 1 -o comm=))"
timeout 180 nsenter -t "$leader" -a /bin/bash /var/tmp/mpc-live/live_inside.sh /var/tmp/mpc-live
rc=$?
[ $rc -eq 0 ] || { echo "--- console"; tail -n 30 "$base/console.log"; }
exit $rc
