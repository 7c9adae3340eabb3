#!/usr/bin/env bash
# Clients that close and reconnect at once, at the default channel and MAX-IP-SES settings
# (SES-TOT:10, SES-RESERVED-IN:2, MAX-IP-SES:2): Postfix's smtp-source (from Debian's postfix
# package; its daemon is never started) against abilisfast relaying to smtp-sink. Each mode is run
# RUNS times; the table says how many runs saw a 421 and how many connections were refused
# (CALL-FAIL IN on the console). Usage:
#   tools/reconnect-runs.sh [RUNS] [MESSAGES]        (defaults: 20 500)
#   ABILISFAST_BIN=/path/to/abilisfast tools/reconnect-runs.sh    (another build, e.g. an older one)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
messages=${2:-500}
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix (then stop its daemon)"; exit 1; }

if [ -z "${ABILISFAST_BIN:-}" ]; then
    dotnet build -c Release src/AbilisFast -v quiet -nologo >/dev/null
fi
bin=${ABILISFAST_BIN:-src/AbilisFast/bin/Release/net10.0/abilisfast}
wdir=$(mktemp -d /tmp/abilisfast-reconnect.XXXXXX)
chmod 755 "$wdir"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin=$(free_port)
sink_port=$(free_port)
as_nobody=()
[ "$(id -u)" = 0 ] && as_nobody=(-u nobody)

smtp-sink "${as_nobody[@]}" "127.0.0.1:$sink_port" 256 &
sink=$!
"$bin" --wdir "$wdir/data" "TCP-LOCPORT:$port" "ADMIN-PORT:$admin" \
    RELAY-NET:127/8 SERVER:127.0.0.1 "SERVER-TCP-PORT:$sink_port" 2>"$wdir/server.log" &
pid=$!
trap 'kill $pid $sink 2>/dev/null; wait $pid $sink 2>/dev/null; rm -rf "$wdir"' EXIT
for _ in $(seq 100); do grep -q "listening on port" "$wdir/server.log" 2>/dev/null && break; sleep 0.1; done
read -r _ password <"$wdir/data/initial-admin-password"

call_fail_in() {
    ABILISFAST_PASSWORD=$password "$bin" ctl --port "$admin" "d s smtp" |
        awk -F'|' '/CALL-FAIL/ { gsub(/ /, "", $5); print $5 + 0 }'
}

printf '%-32s %6s %12s %12s %8s\n' "smtp-source" "runs" "runs w/ 421" "refused" "seconds"
for mode in "-s 2 -m $messages -c" "-s 1 -m $messages" "-s 2 -m $messages" "-s 1 -m $messages -d" "-s 2 -m $messages -d"; do
    before=$(call_fail_in)
    failed=0
    start=$(date +%s.%N)
    for _ in $(seq "$runs"); do
        # shellcheck disable=SC2086 # the mode is a list of options
        if ! out=$(smtp-source $mode -f s@client.test -t r@far.test "127.0.0.1:$port" 2>&1) || grep -q ' 421 ' <<<"$out"; then
            failed=$((failed + 1))
        fi
    done
    end=$(date +%s.%N)
    refused=$(( $(call_fail_in) - before ))
    printf '%-32s %6d %12d %12d %8.1f\n' "$mode" "$runs" "$failed" "$refused" "$(echo "$end - $start" | bc)"
done
