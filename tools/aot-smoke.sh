#!/usr/bin/env bash
# Smoke test of the Native AOT binary itself (CI runs it after the tests):
#   - publishes src/AbilisFast for linux-x64 (or takes ABILISFAST_AOT_BIN) and checks it is one file;
#   - starts it in an empty folder on its built-in defaults (ports moved to free ones);
#   - sends a message to <postmaster> with swaks and sees it delivered into the Maildir;
#   - asks the admin port for "d d smtp" with abilisfast ctl;
#   - sends SIGTERM while a session is in the middle of a message: that session still gets its 250,
#     a new connection is refused, the process exits 0, and a restart recovers the message intact.
# Prints "aot smoke: ok" and exits 0, or says what failed and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d /tmp/abilisfast-smoke.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "aot smoke: FAILED: $*"; [ -f "$work/run/server.log" ] && sed 's/^/  server: /' "$work/run/server.log" | tail -20; exit 1; }

bin=${ABILISFAST_AOT_BIN:-}
if [ -z "$bin" ]; then
    dotnet publish -c Release -r linux-x64 src/AbilisFast -o "$work/publish" -nologo -v quiet >"$work/publish.log" 2>&1 \
        || { cat "$work/publish.log"; fail "dotnet publish"; }
    grep -qiE "warning (IL|AOT)" "$work/publish.log" && { cat "$work/publish.log"; fail "trim/AOT warnings"; }
    bin="$work/publish/abilisfast"
    extra=$(find "$work/publish" -type f ! -name abilisfast | head -5)
    [ -z "$extra" ] || fail "files beside the binary: $extra"
fi
[ -x "$bin" ] || fail "no executable at $bin"
size=$(stat -c %s "$bin")
[ "$(head -c 4 "$bin" | tail -c 3)" = "ELF" ] || fail "$bin is not an ELF executable"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin=$(free_port)
mkdir "$work/run"
cd "$work/run"
start() {
    "$bin" TCP-LOCPORT:$port ADMIN-PORT:$admin >>"$work/run/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 200); do
        [ "$(grep -c "listening on port" "$work/run/server.log")" -ge "$1" ] && return 0
        kill -0 "$pid" 2>/dev/null || fail "the server exited at start"
        sleep 0.05
    done
    fail "not listening after 10 s"
}

start 1
password=$(grep -o "created with password [^ ]*" server.log | awk '{print $4}')
[ -n "$password" ] || fail "no first-start admin password printed"

swaks --server 127.0.0.1:$port --to postmaster --from smoke@client.test --header "Subject: smoke one" --body "first" >swaks1.log 2>&1 \
    || { cat swaks1.log; fail "swaks to postmaster"; }
for _ in $(seq 100); do ls abilisfast-data/mailboxes/postmaster/new/* >/dev/null 2>&1 && break; sleep 0.1; done
grep -q "Subject: smoke one" abilisfast-data/mailboxes/postmaster/new/* 2>/dev/null || fail "the message did not reach the postmaster's Maildir"

out=$(ABILISFAST_PASSWORD=$password "$bin" ctl --port "$admin" "d d smtp") || fail "ctl d d smtp: $out"
echo "$out" | grep -q "RES:Smtp ---" || fail "d d smtp printed: $out"
echo "$out" | grep -q "STATE:ACTIVE" || fail "d d smtp printed: $out"

# A session in the middle of its message when SIGTERM comes: it must still be answered 250.
# QUEUE-HOLD keeps the message queued so the restart can be checked for it.
ABILISFAST_PASSWORD=$password "$bin" ctl --port "$admin" "s p smtp QUEUE-HOLD:YES" >/dev/null || fail "s p smtp QUEUE-HOLD:YES"
python3 - "$port" "$pid" >slow.log 2>&1 <<'PY' || { cat slow.log; fail "the session in flight at SIGTERM"; }
import os, signal, socket, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", port), timeout=20)
f = s.makefile("rwb")
def reply():
    lines = []
    while True:
        line = f.readline().decode()
        lines.append(line)
        if line[3:4] != "-":
            return "".join(lines)
def cmd(text):
    f.write(text.encode() + b"\r\n"); f.flush()
    return reply()
assert reply().startswith("220")
assert cmd("EHLO slow.test").startswith("250")
assert cmd("MAIL FROM:<slow@client.test>").startswith("250")
assert cmd("RCPT TO:<postmaster>").startswith("250")
assert cmd("DATA").startswith("354")
f.write(b"Subject: smoke two\r\n\r\nfirst half\r\n"); f.flush()
os.kill(pid, signal.SIGTERM)
time.sleep(0.5)
try:
    late = socket.create_connection(("127.0.0.1", port), timeout=2)
    banner = late.recv(100)
    assert not banner.startswith(b"220"), "a new session was greeted after SIGTERM: %r" % banner
except OSError:
    pass
f.write(b"second half\r\n.\r\n"); f.flush()
final = reply()
assert final.startswith("250"), final
print("in-flight session:", final.strip())
PY
wait "$pid" && code=0 || code=$?
pid=
[ "$code" = 0 ] || fail "exit code $code after SIGTERM"

start 2
grep -q "1 message(s) recovered" server.log || fail "the restart did not recover the message in flight at SIGTERM"
kill -TERM "$pid"; wait "$pid" || fail "second SIGTERM: exit $?"
pid=
echo "aot smoke: ok (binary $((size / 1024)) KiB: $bin)"
