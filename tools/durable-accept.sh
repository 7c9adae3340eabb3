#!/usr/bin/env bash
# Measures durable accept: smtp-source (Debian's postfix package) against abilisfast, every 250
# sent only after the spool's group commit reached the disk. Usage:
#   tools/durable-accept.sh [SESSIONS] [MESSAGES] [SIZE]      (defaults: 20 20000 1024)
# Prints messages/s. Uses a fresh WDIR under /tmp and a free loopback port; stops the server after.
set -euo pipefail
cd "$(dirname "$0")/.."
sessions=${1:-20}
messages=${2:-20000}
size=${3:-1024}
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix (then stop its daemon)"; exit 1; }

dotnet build -c Release src/AbilisFast -v quiet -nologo >/dev/null
bin=src/AbilisFast/bin/Release/net10.0/abilisfast
wdir=$(mktemp -d /tmp/abilisfast-bench.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# u@local.test is a mail user: local domains take only users, aliases and postmaster (LOCAL-RCPT:KNOWN).
echo "bench-pw" | "$bin" user u --rights mail --wdir "$wdir" >/dev/null
"$bin" --wdir "$wdir" "TCP-LOCPORT:$port" LOCAL-DOMAIN:local.test STORE-MB:YES SES-TOT:64 MAX-IP-SES:64 QUEUE-HOLD:YES "${@:4}" 2>"$wdir/server.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$wdir"' EXIT
for _ in $(seq 100); do grep -q "listening on port" "$wdir/server.log" 2>/dev/null && break; sleep 0.1; done

# Warm-up, then the measured run.
smtp-source -s "$sessions" -m 2000 -l "$size" -d -f s@client.test -t u@local.test "127.0.0.1:$port"
start=$(date +%s.%N)
smtp-source -s "$sessions" -m "$messages" -l "$size" -d -f s@client.test -t u@local.test "127.0.0.1:$port"
end=$(date +%s.%N)
python3 - "$start" "$end" "$messages" <<'PY'
import sys
start, end, n = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
print(f"accept: {n} messages in {end-start:.2f} s = {n/(end-start):.0f} messages/s")
PY
