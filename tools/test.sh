#!/usr/bin/env bash
# Runs every test (unit, loopback, end-to-end) and installs what the end-to-end tests need when it
# is missing: the real peers they talk to (swaks, python3, Postfix's smtp-source/smtp-sink, dnsmasq,
# systemd-analyze, the mail readers of the delivered Maildirs: Dovecot's imapd and s-nail, curl,
# promtool, dkimverify, a C compiler for the C file of the AOT build). On Debian or Ubuntu it uses
# apt-get, as root or through sudo. Extra arguments go to `dotnet test` (for example --filter).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

need=()
command -v swaks >/dev/null 2>&1 || need+=(swaks)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v smtp-source >/dev/null 2>&1 || need+=(postfix)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || need+=(dnsmasq-base)
# systemd only for systemd-analyze verify of deploy/abilisfast.service; it is never started.
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
# Mail readers of the Maildir tests: Dovecot's imapd (run privately by the tests, never as a service) and s-nail.
[ -x /usr/sbin/dovecot ] && [ -x /usr/lib/dovecot/imap ] || need+=(dovecot-imapd)
command -v s-nail >/dev/null 2>&1 || need+=(s-nail)
# msmtp: the submission tests (a device client with a config file).
command -v msmtp >/dev/null 2>&1 || need+=(msmtp)
command -v curl >/dev/null 2>&1 || need+=(curl)
# A C compiler: the CRC-32C function linked into the AOT build is compiled and checked by a test.
command -v cc >/dev/null 2>&1 || need+=(gcc)
# telnet (netkit): the console tests log in with a real telnet client.
command -v telnet >/dev/null 2>&1 || need+=(telnet)
# The DKIM tests verify with dkimpy (dkimverify); its Ed25519 needs PyNaCl.
command -v dkimverify >/dev/null 2>&1 || need+=(python3-dkim)
/usr/bin/python3 -c 'import nacl' >/dev/null 2>&1 || need+=(python3-nacl)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
# promtool (package prometheus) checks the metrics endpoint's output. Only promtool is used: the
# package is installed without its recommends (node exporter) and its daemon is stopped at once.
need_prometheus=0
command -v promtool >/dev/null 2>&1 || need_prometheus=1
# The IPv6 prefix tests run the server in a network namespace of their own (unshare -n, ip).
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || need+=(iproute2)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
    echo "tools/test.sh: installing the test peers: ${need[*]}"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "tools/test.sh: no apt-get here; install ${need[*]} by hand" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! { "${sudo[@]}" apt-get update -qq >/dev/null && "${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null; }; then
        echo "tools/test.sh: apt-get install ${need[*]} failed" >&2; exit 1
    fi
    # The postfix package is only wanted for smtp-source/smtp-sink: never leave its daemon running.
    ("${sudo[@]}" postfix stop || "${sudo[@]}" service postfix stop) >/dev/null 2>&1 || true
    # Likewise dovecot-imapd: the tests start their own dovecot on a loopback port; no system service.
    if printf '%s\n' "${need[@]}" | grep -qx dovecot-imapd; then
        ("${sudo[@]}" service dovecot stop || "${sudo[@]}" doveadm stop) >/dev/null 2>&1 || true
    fi
fi
if [ "$need_prometheus" -eq 1 ]; then
    echo "tools/test.sh: installing promtool (package prometheus, without recommends)"
    sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    if ! { "${sudo[@]}" apt-get update -qq >/dev/null \
        && "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus >/dev/null; }; then
        echo "tools/test.sh: apt-get install prometheus failed" >&2; exit 1
    fi
    # Only promtool is wanted: never leave the Prometheus server running.
    ("${sudo[@]}" service prometheus stop || "${sudo[@]}" systemctl stop prometheus) >/dev/null 2>&1 || true
fi

exec dotnet test AbilisFast.sln -c Release "$@"
