#!/usr/bin/env bash
# End-to-end relay rate: smtp-source -> abilisfast -> smtp-sink (both from Debian's postfix
# package; its daemon is never started). Measures from the first message sent until the console
# counts every message delivered (RELAY-SUCC OUT), and in the same run the same load sent straight
# from smtp-source into smtp-sink, as the peer to quote the figure against. Usage:
#   tools/relay-rate.sh [SESSIONS] [MESSAGES] [SIZE] [extra abilisfast parameters...]
#   (defaults: 20 5000 1024)
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-20}
messages=${2:-5000}
size=${3:-1024}
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix (then stop its daemon)"; exit 1; }

dotnet build -c Release src/AbilisFast -v quiet -nologo >/dev/null
bin=${ABILISFAST_BIN:-src/AbilisFast/bin/Release/net10.0/abilisfast}
wdir=$(mktemp -d /tmp/abilisfast-relay.XXXXXX)
chmod 755 "$wdir"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin=$(free_port)
sink_port=$(free_port)
as_nobody=()
[ "$(id -u)" = 0 ] && as_nobody=(-u nobody)

smtp-sink "${as_nobody[@]}" "127.0.0.1:$sink_port" 256 &
sink=$!
"$bin" --wdir "$wdir/data" "TCP-LOCPORT:$port" "ADMIN-PORT:$admin" SES-TOT:64 SES-RESERVED-OUT:16 MAX-IP-SES:64 \
    RELAY-NET:127/8 SERVER:127.0.0.1 "SERVER-TCP-PORT:$sink_port" "${@:4}" 2>"$wdir/server.log" &
pid=$!
trap 'kill $pid $sink 2>/dev/null; wait $pid $sink 2>/dev/null; rm -rf "$wdir"' EXIT
for _ in $(seq 100); do grep -q "listening on port" "$wdir/server.log" 2>/dev/null && break; sleep 0.1; done
read -r _ password <"$wdir/data/initial-admin-password"

relayed() {
    ABILISFAST_PASSWORD=$password "$bin" ctl --port "$admin" "d s smtp" |
        awk -F'|' '/RELAY-SUCC/ { gsub(/ /, "", $3); print $3 + 0 }'
}

wait_for() {
    local want=$1
    while [ "$(relayed)" -lt "$want" ]; do sleep 0.05; done
}

# Warm-up (JIT, pools, first connections), then the measured run.
smtp-source -s "$sessions" -m 1000 -l "$size" -f s@client.test -t r@far.test "127.0.0.1:$port"
wait_for 1000
start=$(date +%s.%N)
smtp-source -s "$sessions" -m "$messages" -l "$size" -f s@client.test -t r@far.test "127.0.0.1:$port"
accepted=$(date +%s.%N)
wait_for $((1000 + messages))
end=$(date +%s.%N)

# The peer: the same load straight into smtp-sink.
direct_start=$(date +%s.%N)
smtp-source -s "$sessions" -m "$messages" -l "$size" -f s@client.test -t r@far.test "127.0.0.1:$sink_port"
direct_end=$(date +%s.%N)

python3 - "$start" "$accepted" "$end" "$direct_start" "$direct_end" "$messages" "$sessions" "$size" <<'PY'
import sys
start, accepted, end, ds, de = map(float, sys.argv[1:6])
n, s, size = int(sys.argv[6]), sys.argv[7], sys.argv[8]
relay = n / (end - start)
direct = n / (de - ds)
print(f"{n} messages of {size} bytes over {s} sessions")
print(f"abilisfast relay (smtp-source -> abilisfast -> smtp-sink): {end-start:.2f} s = {relay:.0f} messages/s (all accepted after {accepted-start:.2f} s)")
print(f"direct (smtp-source -> smtp-sink):                          {de-ds:.2f} s = {direct:.0f} messages/s")
print(f"relay / direct = {relay/direct:.2f}")
PY
