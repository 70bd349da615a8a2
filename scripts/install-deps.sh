#!/usr/bin/env bash
# Installs exactly the Debian 12 packages that building, the demo and the tests need.
# Idempotent: does nothing (not even apt-get update) when every package is present.
# Works as root; uses sudo otherwise. Each issue that needs a package adds it below.
set -euo pipefail

packages=(
  # build
  build-essential
  cmake
  pkg-config
  clang-format
  # tss/
  libsecp256k1-dev
  libssl-dev
  # hsm/
  libtss2-dev
  libp11-dev
  swtpm
  swtpm-tools
  tpm2-tools
  softhsm2
  opensc
  # tests (valgrind: constant-time checks; systemd: systemd-analyze for the units)
  systemd
  libcmocka-dev
  valgrind
  # api/ and daemon/hubd
  libjansson-dev
  libuv1-dev
  libwebsockets-dev
  libsqlite3-dev
  libinih-dev
  libsystemd-dev
  openssl
  # daemon/ctl (mpcctl): the hub's HTTPS client
  libcurl4-openssl-dev
  clang
  libclang-rt-14-dev
  # packaging (tests/packaging): dpkg-shlibdeps computes the packages' Depends: for cpack
  # (CPACK_DEBIAN_PACKAGE_SHLIBDEPS); lintian checks the packages; udev for udevadm, which
  # lints the rules files
  dpkg-dev
  lintian
  udev
  # the opt-in live test (MPC_LIVE_SYSTEMD=1): systemd-nspawn boots systemd in a container
  systemd-container
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
