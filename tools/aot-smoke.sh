#!/usr/bin/env bash
# Smoke test of the Native AOT binary itself (CI runs it after the tests):
#   - publishes src/AbilisFast for linux-x64 (or takes ABILISFAST_AOT_BIN) and checks it is one file
#     of at most 8,000,000 bytes (the footprint limit; ABILISFAST_SIZE_LIMIT overrides it);
#   - starts it in an empty folder on its built-in defaults (ports moved to free ones);
#   - sends a message to <postmaster> with swaks and sees it delivered into the Maildir;
#   - asks the admin port for "d d smtp" with abilisfast ctl;
#   - sends SIGTERM while a session is in the middle of a message: that session still gets its 250,
#     a new connection is refused, the process exits 0, and a restart recovers the message intact.
# Prints "aot smoke: ok" and exits 0, or says what failed and exits 1.
# tools/smoke-lib.sh holds the parts shared with tools/arm64-smoke.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/smoke-lib.sh
smoke_name="aot smoke"
work=$(mktemp -d /tmp/abilisfast-smoke.XXXXXX)
runner=()
server_args=()
smoke_init

bin=${ABILISFAST_AOT_BIN:+$(readlink -m "$ABILISFAST_AOT_BIN")}
if [ -z "$bin" ]; then
    smoke_publish linux-x64
fi
smoke_check_elf x64
size=$(stat -c %s "$bin")
size_limit=${ABILISFAST_SIZE_LIMIT:-8000000}
echo "$smoke_name: binary $size bytes (limit $size_limit, goal 7000000)"
[ "$size" -le "$size_limit" ] || smoke_fail "the binary is $size bytes, $((size - size_limit)) over the limit of $size_limit;" \
    "tools/aot-size.sh --map itemises it (docs/performance.md, Idle sessions and footprint)"

# The CPU's CRC32 instruction where it has one (SSE4.2), else tables: the same binary runs on both.
if grep -qw sse4_2 /proc/cpuinfo; then
    smoke_check_crc "CPU instruction"
else
    smoke_check_crc "tables (no CRC instruction)"
fi
# The same binary on a CPU without SSE4.2 (QEMU's Core 2 Duo, where qemu-user-static is installed,
# as for the arm64 smoke): it still starts, and asks the CPU before it uses the instruction.
if command -v qemu-x86_64-static >/dev/null; then
    runner=(qemu-x86_64-static -cpu core2duo)
    smoke_check_crc "tables (no CRC instruction)"
    runner=()
fi

smoke_ports
cd "$work/run"
smoke_start 1
smoke_password
smoke_send_to_postmaster "smoke one"
smoke_wait_maildir "smoke one"
smoke_rss
smoke_check_display

# A session in the middle of its message when SIGTERM comes: it must still be answered 250.
# QUEUE-HOLD keeps the message queued so the restart can be checked for it.
smoke_ctl "s p smtp QUEUE-HOLD:YES" >/dev/null || smoke_fail "s p smtp QUEUE-HOLD:YES"
python3 - "$port" "$pid" >slow.log 2>&1 <<'PY' || { cat slow.log; smoke_fail "the session in flight at SIGTERM"; }
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
[ "$code" = 0 ] || smoke_fail "exit code $code after SIGTERM"

smoke_start 2
grep -q "1 message(s) recovered" server.log || smoke_fail "the restart did not recover the message in flight at SIGTERM"
smoke_stop
echo "aot smoke: ok (binary $((size / 1024)) KiB, RSS $rss_kib KiB after start and one message: $bin)"
