#!/usr/bin/env bash
# What DKIM signing costs in relay rate: smtp-source -> abilisfast -> smtp-sink (Debian's postfix
# package; its daemon is never started) with three servers side by side: no signing, rsa-sha256
# (2048 bits) and ed25519-sha256, all keys made by `abilisfast dkim keygen`. The runs alternate
# server by server, REPS times, so a shared machine's drift hits every configuration alike; each
# run times MESSAGES messages from the first sent until the console counts them all delivered
# (RELAY-SUCC OUT). Prints messages/s per configuration (median of the runs) and the ratios to
# the unsigned server. Usage:
#   tools/dkim-rate.sh [SESSIONS] [MESSAGES] [SIZE] [REPS]   (defaults: 20 3000 1024 3)
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-20}
messages=${2:-3000}
size=${3:-1024}
reps=${4:-3}
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix (then stop its daemon)"; exit 1; }

dotnet build -c Release src/AbilisFast -v quiet -nologo >/dev/null
bin=${ABILISFAST_BIN:-src/AbilisFast/bin/Release/net10.0/abilisfast}
dir=$(mktemp -d /tmp/abilisfast-dkim-rate.XXXXXX)
chmod 755 "$dir"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
as_nobody=()
[ "$(id -u)" = 0 ] && as_nobody=(-u nobody)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait "${pids[@]}" 2>/dev/null; rm -rf "$dir"' EXIT

sink_port=$(free_port)
smtp-sink "${as_nobody[@]}" "127.0.0.1:$sink_port" 256 &
pids+=($!)

configs=(none rsa ed25519)
declare -A port admin password
for c in "${configs[@]}"; do
    wdir=$dir/$c
    extra=()
    if [ "$c" != none ]; then
        "$bin" dkim keygen --selector "$c" --domain client.test --wdir "$wdir" --type "$c" >/dev/null 2>&1
        extra=(DKIM-DOMAIN:client.test "DKIM-SELECTOR:$c")
    fi
    port[$c]=$(free_port)
    admin[$c]=$(free_port)
    "$bin" --wdir "$wdir" "TCP-LOCPORT:${port[$c]}" "ADMIN-PORT:${admin[$c]}" SES-TOT:64 SES-RESERVED-OUT:16 MAX-IP-SES:64 \
        RELAY-NET:127/8 SERVER:127.0.0.1 "SERVER-TCP-PORT:$sink_port" "${extra[@]}" 2>"$dir/$c.log" &
    pids+=($!)
    for _ in $(seq 100); do grep -q "listening on port" "$dir/$c.log" 2>/dev/null && break; sleep 0.1; done
    read -r _ "password[$c]" <"$wdir/initial-admin-password"
done

relayed() {
    ABILISFAST_PASSWORD=${password[$1]} "$bin" ctl --port "${admin[$1]}" "d s smtp" |
        awk -F'|' '/RELAY-SUCC/ { gsub(/ /, "", $3); print $3 + 0 }'
}

# Warm-up of each server (JIT, pools, first connections, the keys' first load).
declare -A done_count
for c in "${configs[@]}"; do
    smtp-source -s "$sessions" -m 500 -l "$size" -f s@client.test -t r@far.test "127.0.0.1:${port[$c]}"
    while [ "$(relayed "$c")" -lt 500 ]; do sleep 0.05; done
    done_count[$c]=500
done

results=()
for _ in $(seq "$reps"); do
    for c in "${configs[@]}"; do
        want=$((done_count[$c] + messages))
        start=$(date +%s.%N)
        smtp-source -s "$sessions" -m "$messages" -l "$size" -f s@client.test -t r@far.test "127.0.0.1:${port[$c]}"
        while [ "$(relayed "$c")" -lt "$want" ]; do sleep 0.05; done
        end=$(date +%s.%N)
        done_count[$c]=$want
        results+=("$c $start $end")
    done
done

# The signed servers must really have signed: their logs say so per message when LOG:YES; here the
# session log is read through the console.
for c in rsa ed25519; do
    ABILISFAST_PASSWORD=${password[$c]} "$bin" ctl --port "${admin[$c]}" "debug res:smtp lsn:3" | grep -q "DKIM-signed with selector" \
        || { echo "the $c server did not sign" >&2; exit 1; }
done

printf '%s\n' "${results[@]}" >"$dir/results"
python3 - "$messages" "$sessions" "$size" "$reps" "$dir/results" <<'PY'
import sys, statistics
n, sessions, size, reps = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rates = {}
for line in open(sys.argv[5]):
    c, start, end = line.split()
    rates.setdefault(c, []).append(n / (float(end) - float(start)))
print(f"{n} messages of {size} bytes over {sessions} sessions, {reps} alternating runs per configuration")
median = {c: statistics.median(r) for c, r in rates.items()}
for c, r in rates.items():
    print(f"{c:8} {median[c]:7.0f} messages/s (runs: {', '.join(f'{x:.0f}' for x in r)})")
for c in ("rsa", "ed25519"):
    print(f"{c} / none = {median[c] / median['none']:.2f}")
PY
