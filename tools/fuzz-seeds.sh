#!/usr/bin/env bash
# tools/fuzz-seeds.sh
#
# Records what real SMTP clients send and writes it as seeds of the "in" fuzz target
# (tools/AbilisFast.Fuzz/seeds/in/real-*). It starts the built server (src/AbilisFast, Release) on a
# loopback port with a private WDIR, AUTH-PLAINTEXT:YES and the harness's AUTH user (fuzz / secret),
# puts a small recording proxy (python3) in front of it, and runs swaks, python3 smtplib, Postfix's
# smtp-source, msmtp and s-nail through the proxy: plain transactions, pipelining, AUTH PLAIN and
# LOGIN (RELAY-AUTH:ENABLED), DSN parameters, SMTPUTF8, 8BITMIME, several messages a connection, BDAT chunks (smtplib
# driving BDAT by hand: none of these clients sends BDAT on its own). Each connection's client bytes
# become one seed, prefixed with the harness's options byte (Auth | DefaultLimits) and a segment size
# of 0. Everything stops and is removed at the end.
#
# Needs: swaks, postfix (smtp-source), msmtp, s-nail, python3; build first:
#   dotnet build src/AbilisFast -c Release
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
exe="$root/src/AbilisFast/bin/Release/net10.0/abilisfast"
out="$root/tools/AbilisFast.Fuzz/seeds/in"
[ -x "$exe" ] || { echo "fuzz-seeds.sh: build first: dotnet build src/AbilisFast -c Release" >&2; exit 2; }
for tool in swaks smtp-source msmtp s-nail python3; do
    command -v "$tool" >/dev/null || { echo "fuzz-seeds.sh: $tool not found" >&2; exit 2; }
done

work="$(mktemp -d /tmp/abilisfast-fuzz-seeds.XXXXXX)"
server_pid=""
proxy_pid=""
cleanup() {
    if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
admin=$(free_port)
proxy=$(free_port)

mkdir -p "$work/wdir" "$work/rec"
printf 'secret\n' | "$exe" user fuzz --rights mail --wdir "$work/wdir" >/dev/null
"$exe" "WDIR:$work/wdir" "TCP-LOCPORT:$port" "ADMIN-PORT:$admin" ADMIN-ADDR:127.0.0.1 HELOHOST:mx.fuzz.test \
    LOCAL-DOMAIN:local.test STORE-MB:YES AUTH-PLAINTEXT:YES RELAY-AUTH:ENABLED RELAY-NET:# MAX-IP-SES:20 > "$work/server.log" 2>&1 &
server_pid=$!

# The recording proxy: each connection's client-to-server bytes go to rec/NNN.
cat > "$work/proxy.py" <<'EOF'
import socket, sys, threading, os
listen, target, folder = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
counter = [0]
lock = threading.Lock()
def pump(src, dst, record):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if record is not None:
                record.write(data); record.flush()
            dst.sendall(data)
    except OSError:
        pass
    finally:
        try: dst.shutdown(socket.SHUT_WR)
        except OSError: pass
def serve(client):
    with lock:
        counter[0] += 1
        n = counter[0]
    server = socket.create_connection(("127.0.0.1", target))
    with open(os.path.join(folder, "%03d" % n), "wb") as record:
        up = threading.Thread(target=pump, args=(client, server, record))
        up.start()
        pump(server, client, None)
        up.join()
    client.close(); server.close()
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", listen)); s.listen(16)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
python3 "$work/proxy.py" "$proxy" "$port" "$work/rec" &
proxy_pid=$!

up() { python3 -c "import socket; socket.create_connection(('127.0.0.1', $1), 1).close()" 2>/dev/null; }
for _ in $(seq 100); do up "$port" && break; sleep 0.1; done
for _ in $(seq 100); do up "$proxy" && break; sleep 0.1; done

n=1 # the proxy's first connection was the check above
record() {
    # record NAME: the first connection the last client made becomes the seed (smtp-source makes
    # several; they are alike).
    local name="$1" file
    file="$work/rec/$(printf %03d "$((n + 1))")"
    for _ in $(seq 100); do [ -s "$file" ] && break; sleep 0.1; done
    sleep 0.5
    n=$(find "$work/rec" -type f | wc -l)
    python3 -c 'import sys; d=open(sys.argv[1],"rb").read(); open(sys.argv[2],"wb").write(bytes([9,0])+d)' "$file" "$out/real-$name"
}

s=(--server "127.0.0.1:$proxy" --from a@client.test --to b@local.test --helo client.test --silent 2)
swaks "${s[@]}" --header "Subject: swaks" >/dev/null || echo "fuzz-seeds.sh: swaks: the client failed" >&2; record swaks
swaks "${s[@]}" --pipeline --to b@local.test,c@local.test --header "Subject: piped" >/dev/null || echo "fuzz-seeds.sh: swaks-pipeline: the client failed" >&2; record swaks-pipeline
swaks "${s[@]}" --auth PLAIN --auth-user fuzz --auth-password secret --to x@remote.test >/dev/null || echo "fuzz-seeds.sh: swaks-auth-plain: the client failed" >&2; record swaks-auth-plain
swaks "${s[@]}" --auth LOGIN --auth-user fuzz --auth-password secret >/dev/null || echo "fuzz-seeds.sh: swaks-auth-login: the client failed" >&2; record swaks-auth-login
swaks "${s[@]}" --auth PLAIN --auth-user fuzz --auth-password wrong >/dev/null || true; record swaks-auth-wrong
swaks "${s[@]}" --protocol SMTP --body $'line\r\n.dot\r\n..two' >/dev/null || echo "fuzz-seeds.sh: swaks-helo-dots: the client failed" >&2; record swaks-helo-dots

python3 - "$proxy" <<'EOF' || echo "fuzz-seeds.sh: smtplib: the client failed" >&2
import smtplib, sys
from email.message import EmailMessage
port = int(sys.argv[1])
m = EmailMessage(); m["From"] = "a@client.test"; m["To"] = "b@local.test"; m["Subject"] = "caf\u00e9"; m.set_content("8bit \u00e9t\u00e9\n")
with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test") as c:
    c.login("fuzz", "secret")
    c.send_message(m, "a@client.test", ["b@local.test", "x@remote.test"],
                   mail_options=["SMTPUTF8", "BODY=8BITMIME", "RET=HDRS", "ENVID=id+2B1"],
                   rcpt_options=["NOTIFY=SUCCESS,FAILURE,DELAY", "ORCPT=rfc822;b@local.test"])
    c.sendmail("a@client.test", ["b@local.test"], b"Subject: second\r\n\r\nsecond\r\n", rcpt_options=["NOTIFY=NEVER"])
EOF
record smtplib-dsn-utf8

python3 - "$proxy" <<'EOF' || echo "fuzz-seeds.sh: smtplib: the client failed" >&2
import smtplib, sys
port = int(sys.argv[1])
with smtplib.SMTP("127.0.0.1", port, local_hostname="client.test") as c:
    c.ehlo()
    c.docmd("AUTH LOGIN")
    c.docmd("ZnV6eg==")
    c.docmd("c2VjcmV0")
    c.docmd("MAIL FROM:<a@client.test> BODY=BINARYMIME")
    c.docmd("RCPT TO:<b@local.test>")
    for chunk, last in ((b"Subject: bdat\r\n\r\nfirst ", False), (b"", False), (b"second\r\n", True)):
        c.send(b"BDAT %d%s\r\n" % (len(chunk), b" LAST" if last else b"") + chunk)
        c.getreply()
    c.docmd("MAIL FROM:<a@client.test>")
    c.docmd("RCPT TO:<b@local.test>")
    c.send(b"BDAT 5\r\nhelloBDAT 2 LAST\r\n\r\n")
    c.getreply(); c.getreply()
EOF
record smtplib-bdat

smtp-source -c -d -m 3 -s 1 -l 300 -f a@client.test -t b@local.test -M client.test "127.0.0.1:$proxy" >/dev/null || echo "fuzz-seeds.sh: smtp-source-3: the client failed" >&2; record smtp-source-3
smtp-source -d -m 2 -r 3 -s 1 -l 100 -f a@client.test -t b@local.test -M client.test "127.0.0.1:$proxy" >/dev/null || echo "fuzz-seeds.sh: smtp-source-rcpt: the client failed" >&2; record smtp-source-rcpt

printf 'Subject: msmtp\n\nbody\n' | msmtp --host=127.0.0.1 --port="$proxy" --domain=client.test --tls=off --auth=plain \
    --user=fuzz --passwordeval='echo secret' --from=a@client.test --dsn-notify=failure,delay --dsn-return=full b@local.test || echo "fuzz-seeds.sh: msmtp-auth-dsn: the client failed" >&2; record msmtp-auth-dsn
printf 'Subject: msmtp2\n\nbody\n' | msmtp --host=127.0.0.1 --port="$proxy" --domain=client.test --tls=off --auth=login \
    --user=fuzz --passwordeval='echo secret' --from=a@client.test b@local.test c@local.test || echo "fuzz-seeds.sh: msmtp-auth-login: the client failed" >&2; record msmtp-auth-login

echo "s-nail body" | HOME="$work" MAILRC=/dev/null s-nail -n -Sv15-compat -Sttycharset=utf-8 \
    -S "mta=smtp://fuzz:secret@127.0.0.1:$proxy" -S smtp-auth=login -S hostname=client.test -S from=a@client.test \
    -s "s-nail \u00e9" b@local.test >/dev/null 2>&1 || echo "fuzz-seeds.sh: s-nail: the client failed" >&2; record s-nail
echo "s-nail plain" | HOME="$work" MAILRC=/dev/null s-nail -n -Sv15-compat \
    -S "mta=smtp://fuzz:secret@127.0.0.1:$proxy" -S smtp-auth=plain -S hostname=client.test -S from=a@client.test \
    -s "plain" b@local.test c@local.test >/dev/null 2>&1 || echo "fuzz-seeds.sh: s-nail-plain: the client failed" >&2; record s-nail-plain

echo "fuzz-seeds.sh: wrote $n seeds to $out (real-*)"
