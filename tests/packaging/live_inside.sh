#!/usr/bin/env bash
# tests/packaging/live_inside.sh DIR — runs INSIDE a booted systemd (live_systemd.sh starts
# one in a throwaway container). DIR holds the three .deb files. Installs them, enrols a
# node on a swtpm as README "Install as a service" says, starts mpc-hubd.service and
# mpc-signerd.service under systemd, adds a second (soft, not a unit) signer, makes a
# 2-of-2 key and one signature that mpcctl verifies.
set -euo pipefail
dir=$1
[ "$(ps -p 1 -o comm=)" = systemd ] || { echo "PID 1 is not systemd"; exit 1; }
cd "$dir"
say() { printf '\n== %s\n' "$*"; }

say "install the packages"
dpkg -i ./*.deb
systemctl is-enabled mpc-signerd.service mpc-hubd.service || true
systemctl start mpc-signerd.service          # unconfigured: skipped by its condition
[ "$(systemctl show -p ConditionResult --value mpc-signerd.service)" = no ] ||
  { echo "the unconfigured signer was not skipped"; exit 1; }
systemctl is-active mpc-signerd.service && { echo "the unconfigured signer runs"; exit 1; }
echo "unconfigured mpc-signerd.service: start skipped (ConditionPathExists=)"

say "a development CA (an offline CA in production) and the hub"
mpcctl dev ca "$dir/ca" >/dev/null
mpcctl dev issue --ca "$dir/ca" --name hub --server 127.0.0.1 >/dev/null
install -m 0640 -o root -g mpc-hub "$dir/ca/hub.pem" "$dir/ca/hub.key" "$dir/ca/ca.pem" /etc/mpc-hub/
cat >/etc/mpc-hub/mpc-hubd.conf <<EOF2
[hub]
database = /var/lib/mpc-hub/hub.db
[api]
listen = 127.0.0.1
cert = /etc/mpc-hub/hub.pem
key = /etc/mpc-hub/hub.key
[party]
listen = 127.0.0.1
ca = /etc/mpc-hub/ca.pem
EOF2
chown root:mpc-hub /etc/mpc-hub/mpc-hubd.conf && chmod 0640 /etc/mpc-hub/mpc-hubd.conf
(umask 077 && runuser -u mpc-hub -- mpc-hubd --config /etc/mpc-hub/mpc-hubd.conf \
  create-api-key live >"$dir/api-key")
systemctl enable --now mpc-hubd.service
export MPCCTL_HUB=https://127.0.0.1:8443 MPCCTL_CA=$dir/ca/ca.pem MPCCTL_API_KEY_FILE=$dir/api-key
for _ in $(seq 100); do mpcctl parties >/dev/null 2>&1 && break; sleep 0.1; done

say "a swtpm for the node (a real node: tcti = device:/dev/tpmrm0)"
mkdir -p "$dir/tpm"
systemd-run --unit=mpc-live-swtpm --quiet swtpm socket --tpm2 --server type=tcp,port=2321 \
  --ctrl type=tcp,port=2322 --tpmstate dir="$dir/tpm" --flags not-need-init,startup-clear
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/2321) 2>/dev/null && break; sleep 0.05; done

say "enrol node n1 (tpm2) as README says, then start mpc-signerd.service"
cat >/etc/mpc-signer/mpc-signerd.conf <<EOF2
[signer]
party_id = n1
[hub]
url = wss://127.0.0.1:8444/v1/party
ca = /etc/mpc-signer/ca.pem
cert = /etc/mpc-signer/node.pem
identity_key = /var/lib/mpc-signer/identity.sealed
[backend]
kind = tpm2
tcti = swtpm:host=127.0.0.1,port=2321
EOF2
install -m 0644 "$dir/ca/ca.pem" /etc/mpc-signer/ca.pem
mpcctl node init --backend tpm2 --config /etc/mpc-signer/mpc-signerd.conf --csr "$dir/n1.csr"
mpcctl dev issue --ca "$dir/ca" --name n1 --csr "$dir/n1.csr" --out "$dir/n1.pem" >/dev/null
install -m 0644 -o root -g mpc-signer "$dir/n1.pem" /etc/mpc-signer/node.pem
chown root:mpc-signer /etc/mpc-signer/mpc-signerd.conf && chmod 0640 /etc/mpc-signer/mpc-signerd.conf
chown -R mpc-signer:mpc-signer /var/lib/mpc-signer
runuser -u mpc-signer -- mpc-signerd --config /etc/mpc-signer/mpc-signerd.conf check-config
systemctl enable --now mpc-signerd.service

say "a second signer n2 (soft backend, an ordinary process)"
cat >"$dir/n2.conf" <<EOF2
[signer]
party_id = n2
database = $dir/n2.db
[hub]
url = wss://127.0.0.1:8444/v1/party
ca = $dir/ca/ca.pem
cert = $dir/n2.pem
identity_key = $dir/n2.identity
[backend]
kind = soft
key_file = $dir/n2.soft-key
allow_insecure_soft_backend = yes
EOF2
mpcctl node init --backend soft --config "$dir/n2.conf" --csr "$dir/n2.csr" >/dev/null
mpcctl dev issue --ca "$dir/ca" --name n2 --csr "$dir/n2.csr" --out "$dir/n2.pem" >/dev/null
systemd-run --unit=mpc-live-n2 --quiet mpc-signerd --config "$dir/n2.conf"
for _ in $(seq 100); do
  [ "$(mpcctl parties 2>/dev/null | awk '$2 == "yes"' | wc -l)" -eq 2 ] && break
  sleep 0.1
done
mpcctl parties

say "a 2-of-2 key and one signature"
out=$(mpcctl keys create --threshold 2 --parties n1,n2 --label live)
echo "$out"
key=$(awk '$1 == "key" {print $2}' <<<"$out")
printf 'live systemd test\n' >"$dir/msg"
mpcctl sign "$key" --file "$dir/msg" --verify

say "systemctl status and journalctl"
systemctl status --no-pager mpc-hubd.service mpc-signerd.service | grep -E '●|Active:|Main PID|Status:' || true
systemctl show -p WatchdogUSec -p NRestarts -p ActiveState mpc-signerd.service mpc-hubd.service
journalctl -u mpc-signerd.service -u mpc-hubd.service --no-pager -o cat | tail -n 25
systemctl is-active mpc-hubd.service mpc-signerd.service

say "upgrade (the same version again): postinst restarts the running services"
before=$(systemctl show -p MainPID --value mpc-signerd.service)
dpkg -i ./mpc-signerd_*.deb ./mpc-hubd_*.deb
after=$(systemctl show -p MainPID --value mpc-signerd.service)
systemctl is-active mpc-signerd.service mpc-hubd.service
[ "$before" != "$after" ] || { echo "the signer was not restarted on upgrade"; exit 1; }
echo "mpc-signerd restarted on upgrade: PID $before -> $after"
for _ in $(seq 100); do
  [ "$(mpcctl parties 2>/dev/null | awk '$2 == "yes"' | wc -l)" -eq 2 ] && break
  sleep 0.1
done
mpcctl sign "$key" --file "$dir/msg" --verify | grep -E '^(verified|time) '

say "remove and purge: the services stop, the signer's state stays"
systemctl stop mpc-live-n2.service
dpkg --purge mpc-signerd mpc-hubd mpcctl
if systemctl is-active --quiet mpc-signerd.service || systemctl is-active --quiet mpc-hubd.service; then
  echo "a service still runs after remove"; exit 1
fi
ls -la /var/lib/mpc-signer
[ -f /var/lib/mpc-signer/signer.db ] && [ -f /var/lib/mpc-signer/identity.sealed ] ||
  { echo "purge deleted the signer's state"; exit 1; }
echo "LIVE TEST PASSED"
