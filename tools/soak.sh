#!/usr/bin/env bash
# Bounded soak of AbilisFast with faults: mixed load relayed to postfix's smtp-sink, kill -9 and
# restart of the server every 15-35 s, a moment of disk pressure (WDIR on a tmpfs, when root),
# and stretches where the relay server refuses (4xx) or is down. At the end it drains the queue
# and reports, counting by Message-ID at the sink:
#   accepted    messages the clients saw a 250 for after the final dot (load tool --accepted-ids, swaks)
#   delivered   of those, how many reached smtp-sink (once or more)
#   lost        accepted but never delivered: must be 0 (exit 1 otherwise)
#   duplicated  extra copies (at-least-once delivery after a kill: allowed, reported)
#
# With --local the mail goes to one local Maildir instead (STORE-MB:YES, every client to
# <box@local.test>, no sink), a mail reader moves what arrives in new/ to cur/ with the flag S, and
# the figures are counted from the Maildir files, every one: local delivery is exactly once, so the
# script exits 1 when an accepted message is lost OR when any message is there twice. As root,
# WDIR/mailboxes is a file system of its own (an ext4 image on a loop device) that fills up for
# 8 s (local deliveries defer with 4.3.1).
# --cycles N ends the load after N kill -9 (each 2-8 s after the restart before it, at a random
# moment) instead of after --minutes; the timed events then come at the same fractions of the kills.
#
# usage: tools/soak.sh [--minutes N | --cycles N] [--local] [--keep]
#   ABILISFAST_BIN=path/to/abilisfast   the server to run (AOT publish or JIT build); default: the
#                                       Release build of src/AbilisFast (built when missing)
# Needs: dotnet, swaks, smtp-sink and smtp-source (postfix package; its daemon is never started), python3.
set -euo pipefail

MINUTES=10
CYCLES=0
LOCAL=0
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) MINUTES="$2"; shift 2 ;;
        --cycles) CYCLES="$2"; shift 2 ;;
        --local) LOCAL=1; shift ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,23p' "$0"; exit 0 ;;
        *) echo "soak: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
case "$MINUTES" in ''|*[!0-9]*|0) echo "soak: --minutes needs a whole number >= 1" >&2; exit 2 ;; esac
case "$CYCLES" in ''|*[!0-9]*) echo "soak: --cycles needs a whole number >= 1" >&2; exit 2 ;; esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${ABILISFAST_BIN:-$ROOT/src/AbilisFast/bin/Release/net10.0/abilisfast}"
LOAD="$ROOT/tools/AbilisFast.Load/bin/Release/net10.0/abilisfast-load.dll"
if [ -z "${ABILISFAST_BIN:-}" ] && [ ! -x "$BIN" ]; then
    dotnet build -c Release "$ROOT/src/AbilisFast" >/dev/null
fi
[ -f "$LOAD" ] || dotnet build -c Release "$ROOT/tools/AbilisFast.Load" >/dev/null
for tool in swaks smtp-sink smtp-source python3; do
    command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || { echo "soak: $tool is missing" >&2; exit 2; }
done
SINK_BIN="$(command -v smtp-sink || echo /usr/sbin/smtp-sink)"
SOURCE_BIN="$(command -v smtp-source || echo /usr/sbin/smtp-source)"

W="$(mktemp -d /tmp/abilisfast-soak.XXXXXX)"
mkdir -p "$W/ids" "$W/dumps" "$W/disk" "$W/source"
touch "$W/server.log"
chmod 755 "$W"; chmod 777 "$W/dumps" # smtp-sink writes its dumps as nobody
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); ADMIN=$(free_port); SINK_PORT=$(free_port)

# WDIR on a tmpfs when we may mount one, so the disk can really fill up for a moment. (--local:
# WDIR on the ordinary disk, so that every fsync is real, and see below.)
TMPFS=0
if [ "$LOCAL" = 0 ] && [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=256m tmpfs "$W/disk" 2>/dev/null; then
    TMPFS=1
fi
WDIR="$W/disk/data"
BOX="$WDIR/mailboxes/box"
# --local, as root: WDIR/mailboxes on a file system of its own that can fill up while the spool
# cannot, an ext4 image of 1 GiB on a loop device (its fsyncs are real: the window between a
# Maildir rename and the spool's record of it is as long as on a real disk), or else a tmpfs.
BOXFS=""
if [ "$LOCAL" = 1 ] && [ "$(id -u)" = 0 ]; then
    mkdir -p "$WDIR/mailboxes"
    if truncate -s 1g "$W/mailboxes.img" && mkfs.ext4 -q -m 0 -F "$W/mailboxes.img" >/dev/null 2>&1 \
        && mount -o loop "$W/mailboxes.img" "$WDIR/mailboxes" 2>/dev/null; then
        BOXFS="ext4 on a loop device, 1 GiB"
    elif mount -t tmpfs -o size=1g tmpfs "$WDIR/mailboxes" 2>/dev/null; then
        BOXFS="tmpfs 1 GiB"
    fi
    rm -f "$W/mailboxes.img" # the mounted image lives on until the umount
fi

SERVER_PID=""; SINK_PID=""; LOOP_PIDS=()
cleanup() {
    touch "$W/stop"
    for pid in "${LOOP_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    if [ -n "$SERVER_PID" ]; then kill -9 "$SERVER_PID" 2>/dev/null || true; fi
    if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
    wait 2>/dev/null || true
    if [ -n "$BOXFS" ]; then umount "$WDIR/mailboxes" 2>/dev/null || true; fi
    if [ "$TMPFS" = 1 ]; then umount "$W/disk" 2>/dev/null || true; fi
    if [ "$KEEP" = 1 ]; then echo "soak: files kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

start_sink() { # [smtp-sink flags...]
    "$SINK_BIN" "${SINK_USER[@]}" -d "$W/dumps/%H%M%S." "$@" "127.0.0.1:$SINK_PORT" 256 >/dev/null 2>&1 &
    SINK_PID=$!
    for _ in $(seq 50); do
        python3 -c "import socket; socket.create_connection(('127.0.0.1',$SINK_PORT),1)" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "soak: smtp-sink did not start" >&2; exit 1
}
stop_sink() { kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; SINK_PID=""; }

# Where the clients send: far.test is relayed to smtp-sink; with --local, everything to one mailbox.
if [ "$LOCAL" = 1 ]; then
    # The session log goes to WDIR/log too: it tells how often a delivery found its file after a kill.
    MODE_ARGS=(LOCAL-DOMAIN:local.test STORE-MB:YES MB-MAXMAILS:1000000 MB-MAXSIZE:4194304 LOG:YES LOG-MAX-SIZE:131072 LOG-FILES:4)
    rcpt() { echo "box@local.test"; }
else
    MODE_ARGS=(SERVER:127.0.0.1 "SERVER-TCP-PORT:$SINK_PORT")
    rcpt() { echo "$1@far.test"; }
fi

START_COUNT=0
start_server() {
    for _ in $(seq 40); do
        local before; before=$(grep -c "listening on port" "$W/server.log" 2>/dev/null || true)
        "$BIN" --wdir "$WDIR" "TCP-LOCPORT:$PORT" "ADMIN-PORT:$ADMIN" HELOHOST:soak.test RELAY-NET:127/8 \
            "${MODE_ARGS[@]}" MAIL-TRY-DELAY:2 SES-TOT:48 MAX-IP-SES:40 \
            OUT-TIMEOUT:10 2>>"$W/server.log" >/dev/null &
        SERVER_PID=$!
        for _ in $(seq 100); do
            if [ "$(grep -c "listening on port" "$W/server.log" || true)" -gt "$before" ]; then
                START_COUNT=$((START_COUNT + 1)); return 0
            fi
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true
        sleep 0.25 # the port may still be held for a moment after kill -9
    done
    echo "soak: the server does not start; see $W/server.log" >&2; tail -5 "$W/server.log" >&2; exit 1
}

ctl() { ABILISFAST_PASSWORD="$PASSWORD" "$BIN" ctl --port "$ADMIN" "$1"; }

# --- clients, each in a loop until $W/stop exists ---------------------------------------------
load_loop() {
    local i=0
    while [ ! -e "$W/stop" ]; do
        i=$((i + 1))
        # A soak, not a benchmark: bursts of 500 with pauses keep the queue moving (a few hundred/s).
        dotnet "$LOAD" --server "127.0.0.1:$PORT" --sessions 4 --messages 500 --size 1500 --quiet --json \
            --to "$(rcpt r)" --accepted-ids "$W/ids/load-$i.txt" >>"$W/load.jsonl" 2>>"$W/load.err" || true
        sleep 1.5
    done
}
source_loop() {
    if [ "$LOCAL" = 1 ]; then
        # One session, 20 messages in a row, a sender of its own per run (src-RUN@soak.test): with
        # -v, the Nth reply to a final dot is that of the message smtp-source numbers 20-N in its
        # Message-Id (<pid.fd.NUMBER@host>), so every message it got a 250 for is known.
        local i=0
        while [ ! -e "$W/stop" ]; do
            i=$((i + 1))
            "$SOURCE_BIN" -v -d -s 1 -m 20 -l 1200 -f "src-$i@soak.test" -t "$(rcpt r)" "127.0.0.1:$PORT" >"$W/source/$i.log" 2>&1 || true
            sleep 0.5
        done
        return
    fi
    while [ ! -e "$W/stop" ]; do
        "$SOURCE_BIN" -s 2 -m 100 -l 1200 -f source@soak.test -t r@far.test "127.0.0.1:$PORT" >>"$W/source.log" 2>&1 \
            && echo 100 >>"$W/source.counts" || echo 0 >>"$W/source.counts"
        sleep 2
    done
}
swaks_loop() {
    local i=0
    while [ ! -e "$W/stop" ]; do
        i=$((i + 1))
        local id="swaks-$i@soak.test"
        if swaks --server "127.0.0.1:$PORT" --from swaks@soak.test --to "$(rcpt "s$i")" --helo soak.test --timeout 15 \
            --header "Message-Id: <$id>" --header "Subject: soak swaks $i" --body "soak message $i" >/dev/null 2>&1; then
            echo "$id" >>"$W/ids/swaks.txt"
        fi
        sleep 0.3
    done
}

# --local: a mail reader that moves every new message to cur/ and marks it seen, as an IMAP
# server does when a client looks; a delivery repeated after a kill must find it there too.
reader_loop() {
    python3 - "$BOX" "$W/stop" <<'PY'
import os, sys, time
box, stop = sys.argv[1], sys.argv[2]
while not os.path.exists(stop):
    try:
        for name in os.listdir(os.path.join(box, "new")):
            try:
                os.rename(os.path.join(box, "new", name), os.path.join(box, "cur", name + ":2,S"))
            except OSError:
                pass
    except OSError:
        pass
    time.sleep(0.3)
PY
}

kill_and_restart() {
    kill -9 "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true
    KILLS=$((KILLS + 1))
    sleep "0.$((RANDOM % 9 + 1))"
    start_server
    log "kill -9 #$KILLS and restart: $(grep "listening on port" "$W/server.log" | tail -1 | sed 's/.*WDIR [^,]*, //')"
}

# --- the run ------------------------------------------------------------------------------------
if [ "$CYCLES" -gt 0 ]; then RUN="$CYCLES kill -9 cycles"; else RUN="$MINUTES minute(s)"; fi
if [ "$LOCAL" = 1 ]; then
    log "soak for $RUN: server $BIN, WDIR $WDIR, every message to the local mailbox $BOX${BOXFS:+ ($BOXFS)}"
else
    log "soak for $RUN: server $BIN, WDIR $WDIR$([ $TMPFS = 1 ] && echo ' (tmpfs 256 MiB)'), sink port $SINK_PORT"
    start_sink
fi
start_server
read -r _ PASSWORD <"$WDIR/initial-admin-password"

load_loop & LOOP_PIDS+=($!)
source_loop & LOOP_PIDS+=($!)
swaks_loop & LOOP_PIDS+=($!)
if [ "$LOCAL" = 1 ]; then reader_loop & LOOP_PIDS+=($!); fi

END=$(( $(date +%s) + MINUTES * 60 ))
DURATION=$((MINUTES * 60))
T0=$(date +%s)
KILLS=0; DISK_DONE=0; REFUSE_DONE=0; DOWN_DONE=0
# Time to the next kill: 15-35 s in a timed run; 2-8 s (in tenths) when counting cycles.
next_kill() {
    if [ "$CYCLES" -gt 0 ]; then
        python3 -c "import random, time; print(time.time() + random.uniform(2, 8))"
    else
        echo $(( $(date +%s) + 15 + RANDOM % 20 ))
    fi
}
due() { python3 -c "import sys, time; sys.exit(0 if time.time() >= float(sys.argv[1]) else 1)" "$1"; }
running() { if [ "$CYCLES" -gt 0 ]; then [ "$KILLS" -lt "$CYCLES" ]; else [ "$(date +%s)" -lt "$END" ]; fi; }
NEXT_KILL=$(next_kill)
while running; do
    now=$(date +%s); elapsed=$((now - T0))
    # How far the run is, in percent: of the time, or of the kills.
    if [ "$CYCLES" -gt 0 ]; then progress=$((KILLS * 100 / CYCLES)); else progress=$((elapsed * 100 / DURATION)); fi
    if due "$NEXT_KILL"; then
        kill_and_restart
        NEXT_KILL=$(next_kill)
        continue
    elif [ "$LOCAL" = 1 ]; then
        if [ "$DISK_DONE" = 0 ] && [ -n "$BOXFS" ] && [ "$progress" -ge 40 ]; then
            DISK_DONE=1
            # Filled to the last byte, then 256 KiB given back: a few more messages fit, then ENOSPC.
            dd if=/dev/zero of="$WDIR/mailboxes/filler" bs=1M status=none 2>/dev/null || true
            truncate -s -256K "$WDIR/mailboxes/filler" || true
            log "mailbox disk full: $(df -h --output=avail "$WDIR/mailboxes" | tail -1 | tr -d ' ') free for 8 s"
            sleep 8
            rm -f "$WDIR/mailboxes/filler"
        fi
    elif [ "$REFUSE_DONE" = 0 ] && [ "$progress" -ge 25 ]; then
        REFUSE_DONE=1
        log "relay server answers 4xx to every RCPT for 8 s"
        stop_sink; start_sink -r rcpt; sleep 8; stop_sink; start_sink
    elif [ "$DISK_DONE" = 0 ] && [ "$TMPFS" = 1 ] && [ "$progress" -ge 40 ]; then
        DISK_DONE=1
        avail=$(df -B1 --output=avail "$W/disk" | tail -1)
        fill=$((avail - 20 * 1024 * 1024))
        if [ "$fill" -gt 0 ]; then
            fallocate -l "$fill" "$W/disk/filler"
            log "disk pressure: $(df -h --output=avail "$W/disk" | tail -1 | tr -d ' ') free for 8 s"
            sleep 8
            rm -f "$W/disk/filler"
        fi
    elif [ "$DOWN_DONE" = 0 ] && [ "$progress" -ge 70 ]; then
        DOWN_DONE=1
        log "relay server down (connection refused) for 8 s, and a kill -9 while mail waits in QUEUE-DEFER"
        stop_sink; sleep 4
        kill_and_restart
        sleep 4; start_sink
    fi
    if [ "$CYCLES" -gt 0 ]; then sleep 0.2; else sleep 1; fi
done

log "load stops; draining the queue"
touch "$W/stop"
for pid in "${LOOP_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
LOOP_PIDS=()
DRAIN_END=$(( $(date +%s) + 180 ))
while :; do
    ctl "retry q smtp ALL" >/dev/null 2>&1 || true
    listing=$(ctl "d q smtp" 2>/dev/null || true)
    queues=$(echo "$listing" | grep -o 'QUEUE-OUT:[0-9]* *QUEUE-DEFER:[0-9]*' || true)
    # Empty when both queues are and no message is listed (one being delivered shows as ACTIVE).
    if echo "$queues" | grep -q 'QUEUE-OUT:0 *QUEUE-DEFER:0' && ! echo "$listing" | grep -Eq '^ +[0-9A-F]{8} '; then break; fi
    if [ "$(date +%s)" -ge "$DRAIN_END" ]; then log "queue not empty after 180 s: $queues"; break; fi
    sleep 2
done
sleep 2
kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
[ "$LOCAL" = 1 ] || stop_sink

# --- the figures --------------------------------------------------------------------------------
if [ "$LOCAL" = 1 ]; then
python3 - "$W" "$KILLS" "$START_COUNT" "$BOX" "$WDIR/log" <<'EOF'
import glob, json, os, re, sys
w, kills, starts, box, logdir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
# Accepted: the load tool's and swaks's lists of Message-IDs, and every smtp-source message whose
# final dot got a 250 (smtp-source -v, one session: the Nth dot of run R is <pid.fd.(20-N)@host>
# from <src-R@soak.test>).
accepted = set()
for f in glob.glob(os.path.join(w, "ids", "*.txt")):
    with open(f) as fh:
        accepted.update(line.strip() for line in fh if line.strip())
inflight_src = 0
for f in glob.glob(os.path.join(w, "source", "*.log")):
    run = os.path.basename(f)[:-4]
    dots, waiting = 0, False
    for line in open(f, errors="replace"):
        line = line.rstrip("\n")
        if line.endswith(": ."):
            dots, waiting = dots + 1, True
        elif waiting and "<<< " in line:
            waiting = False
            if "<<< 250" in line:
                accepted.add("src-%s:%d" % (run, 20 - dots))
    inflight_src += waiting
# In the mailbox: every file in new/ and cur/, its key from its header.
mid = re.compile(r"^Message-I[Dd]: <([^>]+)>$", re.M)
src = re.compile(r"^Return-Path: <src-(\d+)@soak\.test>$", re.M)
size = re.compile(r",S=(\d+)")
copies, files, bad_size, with_cr, unknown = {}, {"new": 0, "cur": 0}, 0, 0, 0
for sub in ("new", "cur"):
    d = os.path.join(box, sub)
    for name in (os.listdir(d) if os.path.isdir(d) else []):
        files[sub] += 1
        with open(os.path.join(d, name), "rb") as fh:
            data = fh.read()
        m = size.search(name)
        bad_size += not m or int(m.group(1)) != len(data)
        with_cr += b"\r" in data
        head = data.split(b"\n\n", 1)[0].decode("utf-8", "replace")
        ids = mid.findall(head)
        s = src.search(head)
        if s and ids:
            key = "src-%s:%d" % (s.group(1), int(ids[0].split("@")[0].split(".")[-1], 16))
        elif ids:
            key = ids[0]
        else:
            unknown += 1
            continue
        copies[key] = copies.get(key, 0) + 1
tmp_left = len(os.listdir(os.path.join(box, "tmp"))) if os.path.isdir(os.path.join(box, "tmp")) else 0
lost = sorted(i for i in accepted if i not in copies)
twice = sorted(k for k, c in copies.items() if c > 1)
unacked = [k for k in copies if k not in accepted]
found_again = full = 0
for f in glob.glob(os.path.join(logdir, "smtp.log*")):
    for line in open(f, errors="replace"):
        found_again += "(delivered before a restart)" in line
        full += "deferred: 452 4.3.1" in line
runs = [json.loads(l) for l in open(os.path.join(w, "load.jsonl")) if l.strip()] if os.path.exists(os.path.join(w, "load.jsonl")) else []
r4 = sum(r.get("replies_4xx", 0) for r in runs); err = sum(r.get("errors", 0) for r in runs)
print()
print(f"kills (kill -9)         {kills}   (server starts {starts})")
print(f"load tool runs          {len(runs)}: {sum(r['messages'] for r in runs)} sent, 4xx replies {r4}, errors {err}")
print(f"smtp-source runs        {len(glob.glob(os.path.join(w, 'source', '*.log')))}   ({inflight_src} ended with a dot unanswered)")
print(f"accepted                {len(accepted)}   (250 seen by the load tool, smtp-source and swaks)")
print(f"in the mailbox          {len(accepted) - len(lost)}   (of those, counted from every Maildir file)")
print(f"lost                    {len(lost)}")
print(f"delivered twice         {len(twice)}   (a message in two files: must be 0)")
print(f"in mailbox, no 250 seen {len(unacked)}   (reply lost in flight at a kill: allowed, once at most)")
print(f"files                   {files['new'] + files['cur']}   ({files['new']} in new/, {files['cur']} moved to cur/ by the reader; {unknown} without an id)")
print(f"files wrong S=, with CR {bad_size}, {with_cr}   (must be 0, 0); tmp/ files left {tmp_left}")
print(f"found after a restart   {found_again}   (deliveries that found their own file instead of writing it again; session log file)")
print(f"deferred, disk full     {full}   (452 4.3.1 while the mailbox disk was full; session log file)")
if lost:
    print("LOST:", " ".join(lost[:20]), "..." if len(lost) > 20 else "")
if twice:
    print("TWICE:", " ".join(twice[:20]), "..." if len(twice) > 20 else "")
sys.exit(1 if lost or twice or bad_size or with_cr else 0)
EOF
exit $?
fi

python3 - "$W" "$KILLS" "$START_COUNT" <<'EOF'
import glob, json, os, re, sys
w, kills, starts = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
accepted = set()
for f in glob.glob(os.path.join(w, "ids", "*.txt")):
    with open(f) as fh:
        accepted.update(line.strip() for line in fh if line.strip())
copies = {}
untracked = 0
mid = re.compile(r"^Message-I[Dd]: <([^>]+)>$", re.M)
for f in os.listdir(os.path.join(w, "dumps")):
    with open(os.path.join(w, "dumps", f), errors="replace") as fh:
        text = fh.read()
    if "X-Mail-Args: <source@soak.test>" in text:
        untracked += 1
        continue
    ids = mid.findall(text.split("\n\n", 1)[0])
    if ids:
        key = next((i for i in ids if i in accepted), ids[0])
        copies[key] = copies.get(key, 0) + 1
delivered = [i for i in accepted if i in copies]
lost = sorted(i for i in accepted if i not in copies)
duplicated = sum(copies[i] - 1 for i in copies if copies[i] > 1)
unacked = [i for i in copies if i not in accepted]
runs = [json.loads(l) for l in open(os.path.join(w, "load.jsonl")) if l.strip()] if os.path.exists(os.path.join(w, "load.jsonl")) else []
r4 = sum(r.get("replies_4xx", 0) for r in runs); err = sum(r.get("errors", 0) for r in runs)
print()
print(f"kills (kill -9)        {kills}   (server starts {starts})")
print(f"load tool runs         {len(runs)}: {sum(r['messages'] for r in runs)} sent, 4xx replies {r4}, errors {err}")
print(f"accepted               {len(accepted)}   (250 seen by the load tool and swaks)")
print(f"delivered              {len(delivered)}   (unique, counted at smtp-sink by Message-ID)")
print(f"lost                   {len(lost)}")
print(f"duplicated             {duplicated}   (extra copies at the sink)")
print(f"delivered, no 250 seen {len(unacked)}   (reply lost in flight at a kill: allowed)")
print(f"smtp-source delivered  {untracked}   (not tracked by id)")
if lost:
    print("LOST:", " ".join(lost[:20]), "..." if len(lost) > 20 else "")
    sys.exit(1)
EOF
