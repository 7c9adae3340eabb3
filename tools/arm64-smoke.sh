#!/usr/bin/env bash
# Smoke test of the linux-arm64 Native AOT binary on this x64 machine, under QEMU user-mode
# emulation. Needs the cross toolchain to publish and, to run, QEMU and the arm64 OpenSSL that the
# runtime loads (with it the arm64 C library, at the paths an arm64 Debian has); CI installs them:
#   apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu qemu-user-static
#   dpkg --add-architecture arm64 && apt-get update && apt-get install libssl3:arm64
#   - publishes src/AbilisFast for linux-arm64 (or takes ABILISFAST_ARM64_BIN), one file, an AArch64 ELF;
#   - runs it with qemu-aarch64-static in an empty folder on its built-in defaults (ports moved
#     to free ones);
#   - sends a message to <postmaster> with swaks and sees it delivered into the Maildir (the
#     directory fsync there uses the arm64 value of O_DIRECTORY, which differs from x64's);
#   - asks the admin port for "d d smtp" with abilisfast ctl (the arm64 binary too);
#   - sends SIGTERM: the process exits 0;
#   - makes an Ed25519 DKIM key (OpenSSL's libcrypto by function pointer) and checks it with openssl.
# Prints "arm64 smoke: ok" and exits 0, or says what failed and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/smoke-lib.sh
smoke_name="arm64 smoke"
work=$(mktemp -d /tmp/abilisfast-arm64-smoke.XXXXXX)
smoke_init

command -v qemu-aarch64-static >/dev/null || smoke_fail "no qemu-aarch64-static (apt-get install qemu-user-static)"
[ -e /usr/lib/aarch64-linux-gnu/libssl.so.3 ] || smoke_fail "no arm64 OpenSSL (dpkg --add-architecture arm64 && apt-get update && apt-get install libssl3:arm64)"
runner=(qemu-aarch64-static)
server_args=()
start_wait=60   # emulated, on a shared machine

bin=${ABILISFAST_ARM64_BIN:+$(readlink -m "$ABILISFAST_ARM64_BIN")}
if [ -z "$bin" ]; then
    smoke_publish linux-arm64
fi
smoke_check_elf arm64
size=$(stat -c %s "$bin")
# qemu-user emulates its "max" CPU, which has the CRC extension (HWCAP_CRC32).
smoke_check_crc "CPU instruction"

smoke_ports
cd "$work/run"
smoke_start 1
smoke_password
smoke_send_to_postmaster "arm64 smoke"
smoke_rss
# Most of that is QEMU's own malloc heap (its book-keeping of the guest's address space, which the
# GC reserves large), not the server's memory: it is shown apart.
qemu_heap_kib=$(awk '/\[heap\]$/ {h=1; next} /^[0-9a-f]+-/ {h=0} h && /^Rss:/ {s+=$2} END {print s+0}' "/proc/$pid/smaps")
smoke_wait_maildir "arm64 smoke"
smoke_check_display
smoke_stop
grep -q "listening on port $port" server.log || smoke_fail "no 'listening on port $port' line"
# Ed25519 for DKIM comes from the arm64 libcrypto through function pointers: the key the binary
# makes must have the public key openssl derives from it.
"${runner[@]}" "$bin" dkim keygen --type ed25519 --selector e1 --domain smoke.test --wdir "$work/dkim" >"$work/dkim.txt" 2>/dev/null \
    || smoke_fail "dkim keygen --type ed25519"
grep -qF "p=$(openssl pkey -in "$work/dkim/dkim/e1.key" -pubout -outform DER | tail -c 32 | base64)\"" "$work/dkim.txt" \
    || smoke_fail "the Ed25519 public key differs from openssl's: $(cat "$work/dkim.txt")"
echo "arm64 smoke: ok (binary $((size / 1024)) KiB, RSS $rss_kib KiB under qemu after start and one message, of which $qemu_heap_kib KiB QEMU's own heap: $bin)"
