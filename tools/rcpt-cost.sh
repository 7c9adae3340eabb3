#!/bin/bash
# What RCPT against the recipient table costs: two abilisfast binaries (BASE, NEW) take the same
# RCPT-heavy load from Postfix's smtp-source in turns (a shared machine's drift hits both alike),
# and each prints the wall time and the server's CPU time (utime + stime from /proc/PID/stat, the
# figure to compare: less sensitive to a noisy machine than the wall time).
#
#   tools/rcpt-cost.sh BASE NEW [recipients per message (50)] [messages (2000)] [reps (4)]
#
# Each server runs on CPU 0 with WDIR on /dev/shm (fsync costs nothing there, so RCPT handling is
# what differs), QUEUE-HOLD:YES (nothing is delivered), LOCAL-DOMAIN local.test. smtp-source names
# its recipients 1r@local.test, 2r@local.test, ...: the server gets WDIR/users with the mail user r
# and WDIR/aliases with the catch-all "@local.test: r" (files dated an hour back, so that no re-read
# falls in the measurement); a binary that has no recipient table ignores both and accepts any name.
set -euo pipefail
base=$1 new=$2 rcpts=${3:-50} messages=${4:-2000} reps=${5:-4}
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix (then stop its daemon)"; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

run() { # NAME BINARY
    local name=$1 bin=$2 port w pid t0 t1 cpu
    port=$(free_port)
    w=$(mktemp -d /dev/shm/rcpt-cost.XXXXXX)
    echo pw | "$bin" user r --rights mail --wdir "$w" >/dev/null 2>&1 || true
    printf '@local.test: r\n' >"$w/aliases"
    touch -d '-1 hour' "$w/aliases" "$w/users" 2>/dev/null || true
    taskset -c 0 "$bin" --wdir "$w" TCP-LOCPORT:"$port" ADMIN-ADDR:# LOCAL-DOMAIN:local.test STORE-MB:YES \
        QUEUE-HOLD:YES MAX-RCPT:100 SES-TOT:32 MAX-IP-SES:32 2>"$w/server.log" &
    pid=$!
    for _ in $(seq 100); do grep -q "listening on port" "$w/server.log" 2>/dev/null && break; sleep 0.05; done
    smtp-source -s 4 -m $((messages / 10)) -r "$rcpts" -l 512 -f s@client.test -t r@local.test 127.0.0.1:"$port"
    t0=$(date +%s.%N)
    smtp-source -s 4 -m "$messages" -r "$rcpts" -l 512 -f s@client.test -t r@local.test 127.0.0.1:"$port"
    t1=$(date +%s.%N)
    cpu=$(awk '{print ($14 + $15) / 100}' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -rf "$w"
    python3 -c "print(f'$name: wall {$t1 - $t0:.2f} s, server CPU {$cpu:.2f} s (warm-up included)')"
}

for ((rep = 1; rep <= reps; rep++)); do
    run BASE "$base"
    run NEW "$new"
done
