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
# usage: tools/soak.sh [--minutes N] [--keep]
#   ABILISFAST_BIN=path/to/abilisfast   the server to run (AOT publish or JIT build); default: the
#                                       Release build of src/AbilisFast (built when missing)
# Needs: dotnet, swaks, smtp-sink and smtp-source (postfix package; its daemon is never started), python3.
set -euo pipefail

MINUTES=10
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --minutes) MINUTES="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
        *) echo "soak: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done
case "$MINUTES" in ''|*[!0-9]*|0) echo "soak: --minutes needs a whole number >= 1" >&2; exit 2 ;; esac

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
mkdir -p "$W/ids" "$W/dumps" "$W/disk"
touch "$W/server.log"
chmod 755 "$W"; chmod 777 "$W/dumps" # smtp-sink writes its dumps as nobody
SINK_USER=()
[ "$(id -u)" = 0 ] && SINK_USER=(-u nobody)

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PORT=$(free_port); ADMIN=$(free_port); SINK_PORT=$(free_port)

# WDIR on a tmpfs when we may mount one, so the disk can really fill up for a moment.
TMPFS=0
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=256m tmpfs "$W/disk" 2>/dev/null; then
    TMPFS=1
fi
WDIR="$W/disk/data"

SERVER_PID=""; SINK_PID=""; LOOP_PIDS=()
cleanup() {
    touch "$W/stop"
    for pid in "${LOOP_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "$SERVER_PID" ] && kill -9 "$SERVER_PID" 2>/dev/null || true
    [ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    [ "$TMPFS" = 1 ] && umount "$W/disk" 2>/dev/null || true
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

START_COUNT=0
start_server() {
    for attempt in $(seq 40); do
        local before; before=$(grep -c "listening on port" "$W/server.log" 2>/dev/null || true)
        "$BIN" --wdir "$WDIR" "TCP-LOCPORT:$PORT" "ADMIN-PORT:$ADMIN" HELOHOST:soak.test RELAY-NET:127/8 \
            SERVER:127.0.0.1 "SERVER-TCP-PORT:$SINK_PORT" MAIL-TRY-DELAY:2 SES-TOT:48 MAX-IP-SES:40 \
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
            --accepted-ids "$W/ids/load-$i.txt" >>"$W/load.jsonl" 2>>"$W/load.err" || true
        sleep 1.5
    done
}
source_loop() {
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
        if swaks --server "127.0.0.1:$PORT" --from swaks@soak.test --to "s$i@far.test" --helo soak.test --timeout 15 \
            --header "Message-Id: <$id>" --header "Subject: soak swaks $i" --body "soak message $i" >/dev/null 2>&1; then
            echo "$id" >>"$W/ids/swaks.txt"
        fi
        sleep 0.3
    done
}

kill_and_restart() {
    kill -9 "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true
    KILLS=$((KILLS + 1))
    sleep "0.$((RANDOM % 9 + 1))"
    start_server
    log "kill -9 #$KILLS and restart: $(grep "listening on port" "$W/server.log" | tail -1 | sed 's/.*WDIR [^,]*, //')"
}

# --- the run ------------------------------------------------------------------------------------
log "soak for $MINUTES minute(s): server $BIN, WDIR $WDIR$([ $TMPFS = 1 ] && echo ' (tmpfs 256 MiB)'), sink port $SINK_PORT"
start_sink
start_server
PASSWORD=$(sed -n "s/.*console user 'admin' created with password \([^ ]*\) .*/\1/p" "$W/server.log" | head -1)

load_loop & LOOP_PIDS+=($!)
source_loop & LOOP_PIDS+=($!)
swaks_loop & LOOP_PIDS+=($!)

END=$(( $(date +%s) + MINUTES * 60 ))
DURATION=$((MINUTES * 60))
T0=$(date +%s)
KILLS=0; DISK_DONE=0; REFUSE_DONE=0; DOWN_DONE=0
NEXT_KILL=$(( T0 + 15 + RANDOM % 20 ))
while [ "$(date +%s)" -lt "$END" ]; do
    now=$(date +%s); elapsed=$((now - T0))
    if [ "$now" -ge "$NEXT_KILL" ]; then
        kill_and_restart
        NEXT_KILL=$(( $(date +%s) + 15 + RANDOM % 20 ))
    elif [ "$REFUSE_DONE" = 0 ] && [ "$elapsed" -ge $((DURATION / 4)) ]; then
        REFUSE_DONE=1
        log "relay server answers 4xx to every RCPT for 8 s"
        stop_sink; start_sink -r rcpt; sleep 8; stop_sink; start_sink
    elif [ "$DISK_DONE" = 0 ] && [ "$TMPFS" = 1 ] && [ "$elapsed" -ge $((DURATION * 2 / 5)) ]; then
        DISK_DONE=1
        avail=$(df -B1 --output=avail "$W/disk" | tail -1)
        fill=$((avail - 20 * 1024 * 1024))
        if [ "$fill" -gt 0 ]; then
            fallocate -l "$fill" "$W/disk/filler"
            log "disk pressure: $(df -h --output=avail "$W/disk" | tail -1 | tr -d ' ') free for 8 s"
            sleep 8
            rm -f "$W/disk/filler"
        fi
    elif [ "$DOWN_DONE" = 0 ] && [ "$elapsed" -ge $((DURATION * 7 / 10)) ]; then
        DOWN_DONE=1
        log "relay server down (connection refused) for 8 s, and a kill -9 while mail waits in QUEUE-DEFER"
        stop_sink; sleep 4
        kill_and_restart
        sleep 4; start_sink
    fi
    sleep 1
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
stop_sink

# --- the figures --------------------------------------------------------------------------------
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
