#!/usr/bin/env bash
# tests/packaging/check_packages.sh BUILD_DIR
# From the build tree ctest runs in (installed with the prefix /usr), and never on this machine's
# own system: everything happens under one temporary directory.
#  1. `cmake --install` into a DESTDIR: the expected files, modes and unit paths.
#  2. `cpack -G DEB`: three packages; each one's `dpkg-deb -c` lists its expected files,
#     Depends: comes from dpkg-shlibdeps, /etc files are conffiles, scripts are there.
#  3. lintian (if installed): no errors; warnings are printed.
#  4. dpkg installs, removes and purges the packages in a throwaway root
#     (--root + --force-script-chrootless, scripts see DPKG_ROOT): users and directories
#     created with the right owners, nothing started, the signer's state kept on remove
#     AND on purge.
set -u
build=$(cd "$1" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
step() { printf '== %s (%ss)\n' "$1" "$SECONDS"; }


signerd_files="usr/bin/mpc-signerd usr/lib/systemd/system/mpc-signerd.service
  usr/lib/sysusers.d/mpc-signer.conf usr/lib/tmpfiles.d/mpc-signer.conf
  usr/lib/udev/rules.d/70-mpc-signer-hsm.rules etc/mpc-signer/mpc-signerd.conf.example
  usr/share/man/man8/mpc-signerd.8.gz usr/share/doc/mpc-signerd/copyright
  usr/share/doc/mpc-signerd/examples/usb-hsm.conf usr/share/doc/mpc-signerd/examples/policy.ini
  usr/share/doc/mpc-signerd/changelog.Debian.gz"
hubd_files="usr/bin/mpc-hubd usr/lib/systemd/system/mpc-hubd.service
  usr/lib/sysusers.d/mpc-hub.conf usr/lib/tmpfiles.d/mpc-hub.conf
  etc/mpc-hub/mpc-hubd.conf.example usr/share/man/man8/mpc-hubd.8.gz
  usr/share/doc/mpc-hubd/copyright usr/share/doc/mpc-hubd/changelog.Debian.gz"
ctl_files="usr/bin/mpcctl usr/share/man/man1/mpcctl.1.gz usr/share/doc/mpcctl/copyright
  usr/share/doc/mpcctl/changelog.Debian.gz"

step "cmake --install into a DESTDIR"
DESTDIR=$work/destdir cmake --install "$build" --prefix /usr >/dev/null || fail "cmake --install"
for f in $signerd_files $hubd_files $ctl_files; do
  [ -f "$work/destdir/$f" ] || fail "not installed: /$f"
done
for b in mpc-signerd mpc-hubd mpcctl; do
  [ -x "$work/destdir/usr/bin/$b" ] || fail "/usr/bin/$b not executable"
done
grep -q '^ExecStart=/usr/bin/mpc-signerd ' "$work/destdir/usr/lib/systemd/system/mpc-signerd.service" ||
  fail "the installed signer unit does not run /usr/bin/mpc-signerd"
extra=$(cd "$work/destdir" && find . -type f | sed 's|^\./||' | sort |
  grep -v -x -F "$(printf '%s\n' $signerd_files $hubd_files $ctl_files)")
[ -z "$extra" ] || fail "installed but not expected: $extra"
echo "$(cd "$work/destdir" && find . -type f | wc -l) files, as expected"

step "hardened binaries"
# What dpkg-buildflags' hardening=+all gives a Debian package: PIE, full RELRO (BIND_NOW),
# a non-executable stack, and fortified libc calls (present only in optimised builds
# without sanitizers, which is what gets packaged).
sanitized=$(grep -c '^MPC_SANITIZE:BOOL=ON' "$build/CMakeCache.txt")
for b in mpc-signerd mpc-hubd mpcctl; do
  bin=$work/destdir/usr/bin/$b
  readelf -h "$bin" | grep -q 'DYN (Position-Independent' || fail "$b is not PIE"
  readelf -d "$bin" | grep -q 'BIND_NOW' || fail "$b lacks BIND_NOW (full RELRO)"
  readelf -lW "$bin" | grep -q 'GNU_RELRO' || fail "$b lacks GNU_RELRO"
  readelf -lW "$bin" | grep 'GNU_STACK' | grep -q 'RWE' && fail "$b has an executable stack"
  if [ "$sanitized" -eq 0 ]; then
    nm -D "$bin" | grep -q '__[a-z_]*_chk@' || fail "$b has no fortified libc calls"
  fi
done
echo "PIE, full RELRO, NX stack$([ "$sanitized" -eq 0 ] && echo ', _FORTIFY_SOURCE') for the three binaries"

step "cpack -G DEB"
cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; fail "cpack"; }
for p in mpc-signerd mpc-hubd mpcctl; do
  deb=$(ls "$work"/deb/${p}_*.deb 2>/dev/null)
  [ -n "$deb" ] || fail "no package $p"
  case $p in mpc-signerd) want=$signerd_files ;; mpc-hubd) want=$hubd_files ;; *) want=$ctl_files ;; esac
  list=$(dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's|^\./||')
  for f in $want; do grep -q -x -F "$f" <<<"$list" || fail "$p lacks /$f"; done
  nfiles=$(dpkg-deb -c "$deb" | grep -c '^-')
  [ "$nfiles" -eq "$(echo $want | wc -w)" ] || fail "$p has $nfiles files, expected $(echo $want | wc -w)"
  depends=$(dpkg-deb -f "$deb" Depends)
  grep -q 'libc6 (>= ' <<<"$depends" || fail "$p: Depends without shlibdeps: $depends"
  grep -q 'libssl3' <<<"$depends" || fail "$p: Depends lacks libssl3: $depends"
  if [ $p != mpcctl ]; then
    grep -q -w systemd <<<"$depends" || fail "$p: Depends lacks systemd"
    scripts=$(dpkg-deb --ctrl-tarfile "$deb" | tar t)
    for s in postinst prerm postrm conffiles; do
      grep -q -x "./$s" <<<"$scripts" || fail "$p: no $s"
    done
    conf=$(dpkg-deb -I "$deb" conffiles)
    grep -q -x "/etc/mpc-.*/$p.conf.example" <<<"$conf" || fail "$p: conffiles: $conf"
  fi
  echo "$p: $nfiles files; Depends: $depends"
done
grep -q libtss2-esys <<<"$(dpkg-deb -f "$work"/deb/mpc-signerd_*.deb Depends)" || fail "signerd does not depend on libtss2-esys"
grep -q libtss2 <<<"$(dpkg-deb -f "$work"/deb/mpc-hubd_*.deb Depends)" && fail "the hub depends on tss2"

step "lintian"
if command -v lintian >/dev/null; then
  lintian --tag-display-limit 0 "$work"/deb/*.deb 2>&1 | grep -v "running with root privileges" >"$work/lintian.log"
  sed 's/^/  /' "$work/lintian.log"
  grep -q '^E: ' "$work/lintian.log" && fail "lintian reports errors"
  echo "lintian: $(grep -c '^E: ' "$work/lintian.log") errors, $(grep -c '^W: ' "$work/lintian.log") warnings"
else
  fail "lintian not installed (scripts/install-deps.sh installs it)"
fi

step "dpkg install / remove / purge in a throwaway root"
root=$work/root
mkdir -p "$root/etc" "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/tmp"
touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
dpkg_root() {
  # --force-depends: the root has none of the libraries; --force-script-chrootless: it has
  # no shell either, so the scripts run here with DPKG_ROOT set (they honour it).
  dpkg --root="$root" --log="$work/dpkg.log" --force-script-chrootless --force-depends \
    --force-not-root "$@" >"$work/dpkg.out" 2>&1 || { cat "$work/dpkg.out"; fail "dpkg $*"; }
}
dpkg_root --install "$work"/deb/*.deb
grep -v -e 'dependency problems' -e 'depends on' -e 'but it is not installed' \
  -e '^dpkg: warning: ignoring' -e 'Selecting previously' -e 'Reading database' \
  -e 'Preparing to unpack' -e 'Unpacking' -e 'Setting up' -e '^ ' "$work/dpkg.out" | sed 's/^/  /'
st() { stat -c '%a %U:%G' "$root$1" 2>/dev/null; }
uid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/passwd"; }
gid() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/group"; }
[ -n "$(uid mpc-signer)" ] && [ -n "$(uid mpc-hub)" ] || fail "system users not created: $(cat "$root/etc/passwd" 2>/dev/null)"
grep -q '^tss:[^:]*:[0-9]*:.*mpc-signer' "$root/etc/group" || fail "mpc-signer not in group tss"
n() { stat -c '%a %u:%g' "$root$1" 2>/dev/null; }
[ "$(n /etc/mpc-signer)" = "750 0:$(gid mpc-signer)" ] || fail "/etc/mpc-signer: $(n /etc/mpc-signer)"
[ "$(n /var/lib/mpc-signer)" = "700 $(uid mpc-signer):$(gid mpc-signer)" ] || fail "/var/lib/mpc-signer: $(n /var/lib/mpc-signer)"
[ "$(n /etc/mpc-hub)" = "750 0:$(gid mpc-hub)" ] || fail "/etc/mpc-hub: $(n /etc/mpc-hub)"
[ "$(n /var/lib/mpc-hub)" = "700 $(uid mpc-hub):$(gid mpc-hub)" ] || fail "/var/lib/mpc-hub: $(n /var/lib/mpc-hub)"
for f in $signerd_files $hubd_files $ctl_files; do [ -e "$root/$f" ] || fail "not installed in the root: /$f"; done
for d in signerd hubd; do
  grep -q "^ExecStart=/usr/bin/mpc-$d " "$root/usr/lib/systemd/system/mpc-$d.service" ||
    fail "the packaged mpc-$d.service does not run /usr/bin/mpc-$d"
done
# Installed, not enabled: no wants symlink anywhere in the root.
[ -z "$(find "$root/etc" -path '*wants*' -name 'mpc-*' 2>/dev/null)" ] || fail "a unit was enabled"
grep -q 'not started' "$work/dpkg.out" || fail "postinst did not say the service is not started"
echo "installed: users $(uid mpc-signer)/$(uid mpc-hub), directories with their owners, nothing enabled"

# The node's data and the operator's files, then remove and purge.
echo sealed > "$root/var/lib/mpc-signer/signer.db"
echo pinned > "$root/etc/mpc-signer/mpc-signerd.conf"
echo hub > "$root/var/lib/mpc-hub/hub.db"
# Reinstalling over a modified example keeps the operator's copy (dpkg conffile).
echo "# edited" >> "$root/etc/mpc-signer/mpc-signerd.conf.example"
dpkg_root --force-confold --install "$work"/deb/mpc-signerd_*.deb
grep -q '^# edited' "$root/etc/mpc-signer/mpc-signerd.conf.example" || fail "reinstall overwrote the edited example"
dpkg_root --remove mpc-signerd mpc-hubd mpcctl
[ ! -e "$root/usr/bin/mpc-signerd" ] || fail "remove left the binary"
[ -f "$root/var/lib/mpc-signer/signer.db" ] || fail "remove deleted the signer's database"
[ -f "$root/etc/mpc-signer/mpc-signerd.conf" ] || fail "remove deleted the signer's config"
[ -f "$root/etc/mpc-signer/mpc-signerd.conf.example" ] || fail "remove deleted a conffile (only purge may)"
echo "removed: binaries gone; database, config and conffiles kept"
dpkg_root --purge mpc-signerd mpc-hubd mpcctl
grep -q 'kept on purpose' "$work/dpkg.out" || fail "purge did not say what it keeps"
[ -f "$root/var/lib/mpc-signer/signer.db" ] || fail "purge deleted the signer's database"
[ -f "$root/var/lib/mpc-hub/hub.db" ] || fail "purge deleted the hub's database"
[ -f "$root/etc/mpc-signer/mpc-signerd.conf" ] || fail "purge deleted the operator's config"
[ ! -e "$root/etc/mpc-signer/mpc-signerd.conf.example" ] || fail "purge left the example conffile"
left=$(dpkg --root="$root" -l 2>/dev/null | grep -c '^[a-z][a-z] *mpc' || true)
[ "$left" -eq 0 ] || fail "packages still known to dpkg after purge"
echo "purged: conffiles gone; sealed shares, hub DB, operator config and users kept"
step "done"
