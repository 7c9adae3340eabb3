#!/usr/bin/env bash
# tools/bench-deps.sh: fetches the peers that bench/compare measures AbilisFast against, once.
#
#   Debian packages that stay installed system-wide (apt-get install when missing):
#     postfix (the durable peer, and smtp-source/smtp-sink), strace, util-linux (taskset, unshare),
#     python3 (Debian's /usr/bin/python3, which runs aiosmtpd and the chart script)
#   Debian packages that would conflict with postfix or touch the system: `apt-get download`
#   and `dpkg-deb -x` into bench/.deps/root, never installed, never run as a service:
#     opensmtpd, exim4-daemon-light (durable peers), python3-aiosmtpd and the modules it needs
#     that Debian's python3 lacks (sink peer)
#   NuGet: bench/SmtpServerSink (the SmtpServer 11.1.0 library as a sink), built into
#     bench/.deps/smtpserver-sink
#   The load tool (tools/AbilisFast.Load), built Release.
#
# Everything lands under bench/.deps (ignored by git). Idempotent: what is there is kept;
# --force fetches and builds again. Prints the versions it has and exits 0, or says what failed.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
deps=$repo/bench/.deps
force=0
[ "${1:-}" = --force ] && force=1
[ $force = 1 ] && rm -rf "$deps"
mkdir -p "$deps/debs" "$deps/root"

say() { echo "bench-deps: $*"; }
fail() { echo "bench-deps: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "run as root (apt-get)"

# --- system packages ------------------------------------------------------------------------
need=()
command -v smtp-source >/dev/null || need+=(postfix)
command -v strace >/dev/null || need+=(strace)
command -v taskset >/dev/null && command -v unshare >/dev/null || need+=(util-linux)
[ -x /usr/bin/python3 ] || need+=(python3)
command -v dd >/dev/null || need+=(coreutils)
if [ ${#need[@]} -gt 0 ]; then
    say "apt-get install ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
    # The postfix package starts its daemon; bench/compare runs private instances only.
    if [[ " ${need[*]} " == *" postfix "* ]]; then postfix stop >/dev/null 2>&1 || true; fi
fi

# --- unpacked Debian packages ---------------------------------------------------------------
debs=(opensmtpd exim4-daemon-light python3-aiosmtpd python3-public)
/usr/bin/python3 -c 'import attr' 2>/dev/null || debs+=(python3-attr)
missing=()
for p in "${debs[@]}"; do
    [ -f "$deps/debs/$p.stamp" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    say "apt-get download ${missing[*]}"
    apt-cache policy opensmtpd 2>/dev/null | grep -q Candidate: || apt-get update -qq >/dev/null
    tmp=$(mktemp -d)
    chmod 777 "$tmp" # apt's download user writes there
    (cd "$tmp" && apt-get download "${missing[@]}" >/dev/null 2>"$tmp/err") || { cat "$tmp/err" >&2; rm -rf "$tmp"; fail "apt-get download failed"; }
    for p in "${missing[@]}"; do
        f=$(ls "$tmp/${p}_"*.deb)
        dpkg-deb -x "$f" "$deps/root"
        dpkg-deb -f "$f" Version >"$deps/debs/$p.stamp"
    done
    rm -rf "$tmp"
fi
for b in usr/sbin/smtpd usr/sbin/exim4; do
    [ -x "$deps/root/$b" ] || fail "$b missing after unpacking"
    if ldd "$deps/root/$b" | grep -q "not found"; then
        fail "$b needs libraries that are not installed: $(ldd "$deps/root/$b" | grep 'not found' | tr -s ' \t' ' ')"
    fi
done
PYTHONPATH=$deps/root/usr/lib/python3/dist-packages /usr/bin/python3 -c 'import aiosmtpd.smtp' ||
    fail "aiosmtpd does not import with Debian's python3"

# --- NuGet: the SmtpServer sink, and the load tool ------------------------------------------
if [ $force = 1 ] || [ ! -f "$deps/smtpserver-sink/smtpserver-sink.dll" ] ||
    [ -n "$(find "$repo/bench/SmtpServerSink" -maxdepth 1 -newer "$deps/smtpserver-sink/smtpserver-sink.dll" -name "*.cs*" 2>/dev/null)" ]; then
    say "dotnet build bench/SmtpServerSink (NuGet SmtpServer 11.1.0)"
    dotnet build -c Release "$repo/bench/SmtpServerSink" -o "$deps/smtpserver-sink" -nologo -v quiet >"$deps/smtpserver-sink.log" 2>&1 ||
        { tail -20 "$deps/smtpserver-sink.log" >&2; fail "bench/SmtpServerSink did not build"; }
fi
load=$repo/tools/AbilisFast.Load/bin/Release/net10.0/abilisfast-load.dll
if [ $force = 1 ] || [ ! -f "$load" ] ||
    [ -n "$(find "$repo/tools/AbilisFast.Load" -maxdepth 1 -name "*.cs" -newer "$load" 2>/dev/null)" ]; then
    say "dotnet build -c Release tools/AbilisFast.Load"
    dotnet build -c Release "$repo/tools/AbilisFast.Load" -nologo -v quiet >"$deps/load.log" 2>&1 ||
        { tail -20 "$deps/load.log" >&2; fail "tools/AbilisFast.Load did not build"; }
fi

printf 'bench-deps: ready in %s: postfix %s, opensmtpd %s, exim4 %s, aiosmtpd %s, SmtpServer 11.1.0\n' "$deps" \
    "$(postconf -h mail_version 2>/dev/null)" "$(cat "$deps/debs/opensmtpd.stamp")" \
    "$(cat "$deps/debs/exim4-daemon-light.stamp")" "$(cat "$deps/debs/python3-aiosmtpd.stamp")"
