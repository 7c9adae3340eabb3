# Shared parts of the scripts that publish and run the binary (sourced by tools/aot-smoke.sh,
# tools/arm64-smoke.sh and tools/release.sh, not run by itself). The sourcing script sets, before calling anything here:
#   smoke_name   the prefix of its messages ("aot smoke", "arm64 smoke")
#   work         its scratch folder (removed on exit)
#   bin          the binary, once it has one
#   runner       an array run in front of the binary: () natively, (qemu-aarch64-static) emulated
#   server_args  an array of extra NAME:VALUE parameters for the server (may be empty)
#   start_wait   seconds to wait for "listening on port" (default 10)
# and calls smoke_init first. The server runs in $work/run, an empty folder, with its log in
# $work/run/server.log; $pid is its process (the emulator's under qemu, which passes signals on).
# shellcheck shell=bash

# Defaults, in place when the script sources this file; the sourcing script overrides them.
smoke_name=smoke
work=
runner=()
server_args=()

smoke_init() {
    pid=
    trap smoke_cleanup EXIT
    mkdir -p "$work/run"
}

smoke_cleanup() {
    [ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null
    rm -rf "$work"
}

smoke_fail() {
    echo "$smoke_name: FAILED: $*"
    [ -f "$work/run/server.log" ] && sed 's/^/  server: /' "$work/run/server.log" | tail -20
    exit 1
}

# dotnet publish for RID $1 into $2 (default $work/publish), with any further arguments passed on
# to dotnet publish; fails on any trim/AOT warning or on a file beside the binary. Sets bin.
smoke_publish() {
    local rid=$1 out=${2:-$work/publish}
    shift $(( $# < 2 ? $# : 2 ))
    dotnet publish -c Release -r "$rid" src/AbilisFast -o "$out" -nologo -v quiet "$@" >"$work/publish-$rid.log" 2>&1 \
        || { cat "$work/publish-$rid.log"; smoke_fail "dotnet publish -r $rid"; }
    grep -qiE "warning (IL|AOT)" "$work/publish-$rid.log" && { cat "$work/publish-$rid.log"; smoke_fail "trim/AOT warnings"; }
    bin="$out/abilisfast"
    local extra
    extra=$(find "$out" -type f ! -name abilisfast | head -5)
    [ -z "$extra" ] || smoke_fail "files beside the binary: $extra"
}

# Checks that $bin is an ELF executable for machine $1 (x64 or arm64).
smoke_check_elf() {
    [ -x "$bin" ] || smoke_fail "no executable at $bin"
    [ "$(head -c 4 "$bin" | tail -c 3)" = "ELF" ] || smoke_fail "$bin is not an ELF executable"
    # e_machine, little-endian at offset 18: 0x3e x86-64, 0xb7 AArch64.
    local machine want
    machine=$(od -An -tx1 -j18 -N2 "$bin" | tr -d ' \n')
    case "$1" in
        x64) want=3e00 ;;
        arm64) want=b700 ;;
    esac
    [ "$machine" = "$want" ] || smoke_fail "$bin is not a $1 executable (e_machine $machine)"
}

# Checks the spool's CRC-32C method that `$bin --version` reports: $1 is "CPU instruction" (the C
# function linked into the binary, src/AbilisFast/Native/crc32c.c) or "tables (no CRC instruction)".
smoke_check_crc() {
    local line
    line=$("${runner[@]}" "$bin" --version | grep '^spool CRC-32C: ') || smoke_fail "--version prints no 'spool CRC-32C:' line"
    echo "$smoke_name: $line"
    [ "$line" = "spool CRC-32C: $1" ] || smoke_fail "expected 'spool CRC-32C: $1'"
}

smoke_free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Picks the SMTP and admin ports (port, admin).
smoke_ports() {
    port=$(smoke_free_port)
    admin=$(smoke_free_port)
}

# Starts the server in $work/run on $port and $admin and waits for the $1-th "listening on port"
# line of the log (1 for the first start, 2 after a restart).
smoke_start() {
    (cd "$work/run" && exec "${runner[@]}" "$bin" "TCP-LOCPORT:$port" "ADMIN-PORT:$admin" "${server_args[@]}" >>"$work/run/server.log" 2>&1) &
    pid=$!
    local tries=$(( ${start_wait:-10} * 20 ))
    for _ in $(seq "$tries"); do
        [ "$(grep -c "listening on port" "$work/run/server.log")" -ge "$1" ] && return 0
        kill -0 "$pid" 2>/dev/null || smoke_fail "the server exited at start"
        sleep 0.05
    done
    smoke_fail "not listening after ${start_wait:-10} s"
}

# The admin password of the first start, from the file (mode 0600) whose path it printed (sets password).
smoke_password() {
    local file
    file=$(sed -n "s/.*console user 'admin' created; its password is in \(.*\) (mode 0600.*/\1/p" "$work/run/server.log" | head -1)
    [ -n "$file" ] || smoke_fail "the first start did not say where the admin password is"
    [ "$(stat -c %a "$file")" = 600 ] || smoke_fail "$file is not mode 0600"
    read -r _ password <"$file"
    [ -n "$password" ] || smoke_fail "no admin password in $file"
    ! grep -qF "$password" "$work/run/server.log" || smoke_fail "the admin password is in the server's log"
}

# Sends a message with subject $1 to <postmaster> with swaks; sets queue_id from the 250 reply.
smoke_send_to_postmaster() {
    local subject=$1 log="$work/swaks.$RANDOM.log"
    swaks --server "127.0.0.1:$port" --to postmaster --from smoke@client.test --header "Subject: $subject" --body "smoke" >"$log" 2>&1 \
        || { cat "$log"; smoke_fail "swaks to postmaster"; }
    queue_id=$(sed -nE 's/.*250 2\.0\.0 Ok: queued as ([0-9A-F]+).*/\1/p' "$log")
    [ -n "$queue_id" ] || { cat "$log"; smoke_fail "no 'queued as' in the reply to the message"; }
}

# Waits (up to 10 s) for the message with subject $1 in the postmaster's Maildir: the mailbox of
# the first admin user, the 'admin' the first start creates.
smoke_wait_maildir() {
    local box="$work/run/abilisfast-data/mailboxes/admin/new"
    for _ in $(seq 100); do
        grep -qs "Subject: $1" "$box"/* && return 0
        sleep 0.1
    done
    smoke_fail "the message '$1' did not reach the postmaster's Maildir"
}

# Runs one console command with abilisfast ctl (the binary under test, under the same runner).
smoke_ctl() {
    ABILISFAST_PASSWORD=$password "${runner[@]}" "$bin" ctl --port "$admin" "$1"
}

# "d d smtp" on the admin port must show the active resource.
smoke_check_display() {
    local out
    out=$(smoke_ctl "d d smtp") || smoke_fail "ctl d d smtp: $out"
    echo "$out" | grep -q "RES:Smtp ---" || smoke_fail "d d smtp printed: $out"
    echo "$out" | grep -q "STATE:ACTIVE" || smoke_fail "d d smtp printed: $out"
}

# VmRSS of the server process, in KiB (sets rss_kib).
smoke_rss() {
    rss_kib=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    [ -n "$rss_kib" ] || smoke_fail "no VmRSS for process $pid"
}

# SIGTERM; the server must exit 0.
smoke_stop() {
    kill -TERM "$pid"
    local code=0
    wait "$pid" || code=$?
    pid=
    [ "$code" = 0 ] || smoke_fail "exit code $code after SIGTERM"
}
