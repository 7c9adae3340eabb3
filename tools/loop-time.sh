#!/usr/bin/env bash
# Times a mail loop: two servers relay loop.test to each other (each one's SERVER is the other,
# RELAY-NET open to loopback), swaks sends one message into A, and the script waits until the
# sender's Maildir on A holds the notification that HOP-LIMIT causes. Prints the time and checks
# that no second notification follows. Loopback only; the servers are stopped at the end.
#   tools/loop-time.sh [runs]           (default 3 runs; ABILISFAST_BIN picks the binary)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${ABILISFAST_BIN:-$root/src/AbilisFast/bin/Release/net10.0/abilisfast}
runs=${1:-3}
[ -x "$bin" ] || { echo "no executable at $bin (dotnet build -c Release first)"; exit 2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for run in $(seq "$runs"); do
    work=$(mktemp -d /tmp/abilisfast-loop.XXXXXX)
    pa=$(free_port); pb=$(free_port); aa=$(free_port); ab=$(free_port)
    "$bin" --wdir "$work/a" "TCP-LOCPORT:$pa" "ADMIN-PORT:$aa" LOCAL-DOMAIN:a.test HELOHOST:a.test STORE-MB:YES \
        RELAY-NET:127/8 MAX-IP-SES:20 MAIL-TRY-DELAY:1 SERVER:127.0.0.1 "SERVER-TCP-PORT:$pb" 2>"$work/a.err" &
    a=$!
    "$bin" --wdir "$work/b" "TCP-LOCPORT:$pb" "ADMIN-PORT:$ab" HELOHOST:b.test \
        RELAY-NET:127/8 MAX-IP-SES:20 MAIL-TRY-DELAY:1 SERVER:127.0.0.1 "SERVER-TCP-PORT:$pa" 2>"$work/b.err" &
    b=$!
    trap 'kill $a $b 2>/dev/null; rm -rf "$work"' EXIT
    for _ in $(seq 100); do grep -q listening "$work/a.err" && grep -q listening "$work/b.err" && break; sleep 0.1; done
    start=$(date +%s.%N)
    swaks --server "127.0.0.1:$pa" --from s@a.test --to u@loop.test --body loop --helo client.test >/dev/null
    mailbox="$work/a/mailboxes/s/new"
    for _ in $(seq 600); do [ -n "$(ls -A "$mailbox" 2>/dev/null)" ] && break; sleep 0.02; done
    end=$(date +%s.%N)
    sleep 2
    count=$(find "$mailbox" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    received=$(grep -c '^Received: ' "$mailbox"/* 2>/dev/null || true)
    printf 'run %d: notification after %.2f s; %d notification(s) 2 s later; %s Received: lines in it (its own and the returned header section)\n' \
        "$run" "$(awk "BEGIN { print $end - $start }")" "$count" "$received"
    kill $a $b; wait $a $b 2>/dev/null || true
    rm -rf "$work"
    trap - EXIT
done
