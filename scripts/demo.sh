#!/usr/bin/env bash
# The main job: mpc-signer deployed on this machine and used, as a walkthrough.
# Installs what is missing, builds, then in a temporary directory: a development CA and
# certificates (mpcctl dev), a swtpm and a SoftHSM2 token, the hub and three signers
# (tpm2 on the swtpm, pkcs11 on SoftHSM2, soft), a 2-of-3 key made over HTTPS with mpcctl,
# a signature from each pair of signers and one along a derivation path, each verified by
# the openssl command line against the key's PEM, a delegate (user-held) share made by a
# fourth, delegate signer (n4, soft) and used to sign, and a latency summary. Everything it
# started is stopped on exit, Ctrl-C or failure.
#   bash scripts/demo.sh            the walkthrough (MPC_DEMO_KEEP=1 keeps the temp dir)
#   bash scripts/demo.sh bench ...  the threshold core's self-check and benchmark (tss-bench)
#   bash scripts/demo.sh bench e2e [--quick]   the hub and three signers over HTTPS under
#                                   load, both share cache modes (bench/e2e-bench.c)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/build/demo

if [ "${1:-}" = bench ]; then
  shift
  bash scripts/install-deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPC_TESTS=OFF -DMPC_BENCH=ON >/dev/null
  if [ "${1:-}" = e2e ]; then
    shift
    cmake --build "$build" -j"$(nproc)" --target e2e-bench -- --no-print-directory >/dev/null
    exec "$build/bench/e2e-bench" "$@"
  fi
  cmake --build "$build" -j"$(nproc)" --target tss-bench -- --no-print-directory >/dev/null
  exec "$build/bench/tss-bench" "$@"
fi
if [ $# -gt 0 ]; then
  echo "usage: bash scripts/demo.sh [bench [tss-bench arguments | e2e [--quick]]]" >&2
  exit 2
fi

# ---- presentation ------------------------------------------------------------------------
bold=$'\e[1m' dim=$'\e[2m' green=$'\e[32m' red=$'\e[31m' off=$'\e[0m'
if [ ! -t 1 ]; then bold='' dim='' green='' red='' off=''; fi
step_no=0
step() { step_no=$((step_no + 1)); printf '\n%s%d. %s%s\n' "$bold" "$step_no" "$1" "$off"; }
say() { printf '   %s\n' "$*"; }
# Shows a command (paths relative to the demo directory) and indents its output.
show() { printf '   %s$ %s%s\n' "$dim" "${*//$work\//}" "$off"; }
run() { show "$@"; "$@" 2>&1 | sed "s|$work/||g; s/^/     /"; return "${PIPESTATUS[0]}"; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }

echo "${bold}mpc-signer demo${off}: a hub and three signer nodes on this machine, a 2-of-3 threshold"
echo "key, and signatures that ordinary ECDSA tools verify; then a delegate signer whose share the"
echo "backend holds. Nothing leaves 127.0.0.1."

step "Install what is missing and build (release)"
t0=$(ms_now)
bash scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMPC_TESTS=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target mpc-hubd mpc-signerd mpcctl \
  -- --no-print-directory >/dev/null
hubd=$build/daemon/hubd/mpc-hubd
signerd=$build/daemon/signerd/mpc-signerd
mpcctl() { "$build/daemon/ctl/mpcctl" "$@"; }
say "built mpc-hubd, mpc-signerd and mpcctl in ${build#"$root"/} ($((($(ms_now) - t0) / 1000)) s)"
demo_start=$(ms_now)

# ---- everything started below is stopped here ---------------------------------------------
work=$(mktemp -d /tmp/mpc-demo.XXXXXX)
pids=()
swtpm_pid=''
ok=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  for p in "${pids[@]}" $swtpm_pid; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}" $swtpm_pid; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ $rc -eq 130 ] || [ $rc -eq 143 ]; then
    printf '\ninterrupted: stopped everything the demo started\n'
  elif [ $ok -ne 1 ]; then
    echo
    echo "${red}The demo stopped early (exit $rc).${off} The last lines of each log:"
    for f in "$work"/*.log; do [ -f "$f" ] && { echo "== ${f##*/}"; tail -n 15 "$f"; }; done
  fi
  if [ -n "${MPC_DEMO_KEEP:-}" ]; then echo "kept $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$work"

# A loopback port with nothing listening (and its neighbour, for swtpm's control port).
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null &&
      ! (exec 3<>/dev/tcp/127.0.0.1/$((p + 1))) 2>/dev/null &&
      ! [[ " ${used_ports:-} " == *" $p "* || " ${used_ports:-} " == *" $((p + 1)) "* ]]; then
      used_ports="${used_ports:-} $p $((p + 1))"
      echo "$p"
      return
    fi
  done
  echo "no free port" >&2
  return 1
}
api_port=$(free_port)
party_port=$(free_port)
tpm_port=$(free_port)

step "A development CA and the hub's certificate (mpcctl dev)"
say "In production the deployment CA is kept offline; here it is a directory."
run mpcctl dev ca "$work/ca"
run mpcctl dev issue --ca "$work/ca" --name hub --server 127.0.0.1
export MPCCTL_HUB=https://127.0.0.1:$api_port MPCCTL_CA=$work/ca/ca.pem

step "Sealing backends: a software TPM (swtpm) and a PKCS#11 token (SoftHSM2)"
mkdir -p tpm softhsm/tokens
swtpm socket --tpm2 --server type=tcp,port="$tpm_port" --ctrl type=tcp,port=$((tpm_port + 1)) \
  --tpmstate dir="$work/tpm" --flags not-need-init,startup-clear >swtpm.log 2>&1 &
swtpm_pid=$!
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$tpm_port) 2>/dev/null && break; sleep 0.05; done
say "swtpm listening on 127.0.0.1:$tpm_port (n1 seals with it through tpm2-tss)"
export SOFTHSM2_CONF=$work/softhsm/softhsm2.conf
printf 'directories.tokendir = %s/softhsm/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$work" >"$SOFTHSM2_CONF"
softhsm_module=/usr/lib/softhsm/libsofthsm2.so
softhsm2-util --init-token --free --label n2-token --so-pin 87654321 --pin 123456 >softhsm.log
pkcs11-tool --module "$softhsm_module" --token-label n2-token --login --pin 123456 \
  --keypairgen --key-type EC:prime256v1 --id 01 --label seal-key >>softhsm.log 2>&1
(umask 077 && printf '123456' >n2.pin)
say "SoftHSM2 token 'n2-token' with a non-extractable P-256 key 'seal-key' (n2 wraps with it)"

step "The hub (mpc-hubd): REST API on :$api_port, party link on :$party_port"
cat >hub.conf <<EOF
[hub]
database = $work/hub.db
[api]
listen = 127.0.0.1
port = $api_port
cert = $work/ca/hub.pem
key = $work/ca/hub.key
[party]
listen = 127.0.0.1
port = $party_port
ca = $work/ca/ca.pem
EOF
(umask 077 && "$hubd" --config hub.conf create-api-key demo 2>>hub.log >api-key)
export MPCCTL_API_KEY_FILE=$work/api-key
say "API key 'demo' created; mpcctl reads it from \$MPCCTL_API_KEY_FILE (never from argv)"
"$hubd" --config hub.conf 2>>hub.log &
pids+=($!)
for _ in $(seq 100); do mpcctl parties >/dev/null 2>&1 && break; sleep 0.05; done
run mpcctl parties

step "Three signer nodes: identity keys sealed by their backends (mpcctl node init)"
node_conf() { # name kind backend-lines [signer-lines]
  cat >"$1.conf" <<EOF
[signer]
party_id = $1
database = $work/$1.db
${4:-}
[hub]
url = wss://127.0.0.1:$party_port/v1/party
ca = $work/ca/ca.pem
cert = $work/$1.pem
identity_key = $work/$1.identity
reconnect_min_ms = 100
[backend]
kind = $2
$3
EOF
}
node_conf n1 tpm2 "tcti = swtpm:host=127.0.0.1,port=$tpm_port"
node_conf n2 pkcs11 "module = $softhsm_module
token_label = n2-token
key_label = seal-key
pin_file = $work/n2.pin"
node_conf n3 soft "key_file = $work/n3.soft-key
allow_insecure_soft_backend = yes"
node_conf n4 soft "key_file = $work/n4.soft-key
allow_insecure_soft_backend = yes" "role = delegate"
for n in n1:tpm2 n2:pkcs11 n3:soft n4:soft; do
  name=${n%%:*} kind=${n#*:}
  run mpcctl node init --backend "$kind" --config "$work/$name.conf"
  run mpcctl dev issue --ca "$work/ca" --name "$name" --csr "$work/$name.csr" --out "$work/$name.pem"
  "$signerd" --config "$name.conf" 2>>"$name.log" &
  pids+=($!)
done
say "Signers started; each dials the hub (mutual TLS), none listens on a port."
say "n4 is a delegate signer (role = delegate): it stores no share; see the last steps."
for _ in $(seq 200); do
  [ "$(mpcctl parties 2>/dev/null | awk '$2 == "yes"' | wc -l)" -eq 4 ] && break
  sleep 0.05
done
run mpcctl parties

step "A 2-of-3 key by distributed key generation (no party ever holds the private key)"
t0=$(ms_now)
show mpcctl keys create --threshold 2 --parties n1,n2,n3 --label demo
out=$(mpcctl keys create --threshold 2 --parties n1,n2,n3 --label demo)
keygen_ms=$(($(ms_now) - t0))
sed "s|$work/||g; s/^/     /" <<<"$out"
key=$(awk '$1 == "key" {print $2}' <<<"$out")
say "mpcctl verified each signer's attestation (its share is durable) against its certificate"
say "and the CA before printing the address. Keygen took $keygen_ms ms end to end."

step "Signatures: each pair of signers, then a derived key (BIP32 path m/0/1)"
printf 'Hello from the mpc-signer demo\n' >message.txt
openssl dgst -sha256 -binary message.txt >message.sha256
mpcctl keys show "$key" --pem >key.pem
mpcctl keys show "$key" --pem --path m/0/1 >key-m01.pem
say "Message: message.txt; hash: SHA-256 (mpcctl sign --file). Public keys as PEM from"
say "mpcctl keys show --pem [--path]; openssl checks each signature independently."
times=()
sign_and_check() { # label pem [mpcctl sign args...]
  local label=$1 pem=$2
  shift 2
  show mpcctl sign "$key" --file message.txt "$@" --verify
  local o
  o=$(mpcctl sign "$key" --file message.txt "$@" --verify)
  grep -E '^(r|s|v|verified|time) ' <<<"$o" | sed 's/^/     /'
  local der
  der=$(awk '$1 == "der" {print $2}' <<<"$o")
  printf '%b' "$(sed 's/../\\x&/g' <<<"$der")" >"sig-$label.der"
  show openssl pkeyutl -verify -pubin -inkey "$pem" -in message.sha256 -sigfile "sig-$label.der"
  openssl pkeyutl -verify -pubin -inkey "$pem" -in message.sha256 -sigfile "sig-$label.der" |
    sed "s/^/     ${green}/; s/\$/${off}/"
  times+=("$(awk '$1 == "time" {print $2}' <<<"$o")")
  last_session=$(awk '$1 == "session" {print $2}' <<<"$o")
}
sign_and_check n1n2 key.pem --signers n1,n2
sign_and_check n1n3 key.pem --signers n1,n3
sign_and_check n2n3 key.pem --signers n2,n3
sign_and_check path key-m01.pem --path m/0/1

step "What the hub recorded for the last signing session"
run mpcctl sessions show "$last_session"

step "A delegate (user-held) share: n4 seals its share with its own backend, hands it out once"
say "The backend keeps user-share.b64 (useless without n4's TPM/HSM; back it up: losing it"
say "loses that share) and passes it back to sign; the hub never stores it."
show mpcctl keys create --threshold 2 --parties n1,n2,n4 --delegate n4 \
  --share-out user-share.b64 --external-id user-42
dout=$(mpcctl keys create --threshold 2 --parties n1,n2,n4 --delegate n4 \
  --share-out user-share.b64 --external-id user-42 2>/dev/null)
sed "s|$work/||g; s/^/     /" <<<"$dout"
dkey=$(awk '$1 == "key" {print $2}' <<<"$dout")
say "user-share.b64: $(wc -c <user-share.b64) bytes of base64; n4's database holds no share."
run mpcctl keys list --external-id user-42
main_key=$key main_times=("${times[@]}")
key=$dkey
mpcctl keys show "$dkey" --pem >dkey.pem
sign_and_check user dkey.pem --delegate-share user-share.b64 --signers n4,n1
say "Without the share the hub picks the persistent signers (n1, n2); or set defaults:"
run mpcctl keys signers set "$dkey" n2,n1
sign_and_check nouser dkey.pem
sed -E 's/^(.{100})A/\1B/; t; s/^(.{100})./\1A/' user-share.b64 >bad-share.b64
show mpcctl sign "$dkey" --file message.txt --delegate-share bad-share.b64 --signers n4,n1
{ mpcctl sign "$dkey" --file message.txt --delegate-share bad-share.b64 --signers n4,n1 2>&1 ||
  true; } | sed 's/^/     /'
say "One altered character: n4 refuses it (bad_delegate_share), no signature, nobody banned."
key=$main_key times=("${main_times[@]}")

step "Summary: the key, and latency (one client, this machine)"
for pair in n1,n2 n1,n3 n2,n3; do
  for _ in $(seq 10); do
    times+=("$(mpcctl sign "$key" --file message.txt --signers "$pair" | awk '$1 == "time" {print $2}')")
  done
done
summary=$(printf '%s\n' "${times[@]}" | sort -n | awk '{v[NR] = $1} END {
  printf "%d signatures: median %.1f ms, min %.1f ms, max %.1f ms", NR, v[int((NR + 1) / 2)], v[1], v[NR]}')
say "key $key (2 of 3: n1 tpm2, n2 pkcs11, n3 soft)"
say "  public key $(awk '$1 == "public" {print $3}' <<<"$out")"
say "  address    $(awk '$1 == "address" {print $2}' <<<"$out") (Ethereum)"
say "keygen 2-of-3 (tpm2 + pkcs11 + soft): $keygen_ms ms"
say "sign, request to hub-verified signature: $summary"
say "(each signature is a new mpcctl process with its own TLS handshake; the hub verifies"
say " every signature before it answers)"

step "Stop the daemons, then inspect each node (mpcctl node status)"
for p in "${pids[@]}"; do kill -TERM "$p"; done
for p in "${pids[@]}"; do wait "$p" || echo "   a daemon exited with status $?"; done
pids=()
for n in n1 n2 n3 n4; do run mpcctl node status --config "$work/$n.conf"; done

printf '\n%sDone%s in %d s after the build; every signature was verified by openssl.\n' \
  "$bold" "$off" $((($(ms_now) - demo_start) / 1000))
echo "Next: daemon/ctl/README.md (mpcctl), api/openapi.yaml (the REST API),"
echo "daemon/signerd/mpc-signerd.conf.example and daemon/hubd/README.md."
ok=1
