#!/usr/bin/python3
"""The driver of bench/compare (run that, not this): AbilisFast side by side with its peers in
one run, every figure the median of alternating runs with the spread (min-max).

Sections (all by default, --only to pick):
  sink       abilisfast SINK:YES vs smtp-sink (Postfix), SmtpServer (.NET, NuGet) and aiosmtpd
             (Python, Debian): msgs/s and server CPU per message, three client shapes
  durable    abilisfast QUEUE-HOLD:YES vs Postfix (every message on hold), Exim (queue_only, no
             queue runner) and OpenSMTPD (deliveries paused): the same
  latency    open loop (load tool --rate) at 50 % and 90 % of abilisfast's durable maximum, the
             same offered rate against every durable peer: p50/p90/p99/p99.9
  large      1 MB and 10 MB messages, durable, MB/s against the disk's own write+fdatasync
             bandwidth (dd conv=fdatasync, same folder, runs alternating) and against the same
             writes with an fdatasync per message (4 writers, no server: the ceiling for a sync
             before each 250), peak RSS of each; with syscalls or large-syscalls, strace -c
  footprint  binary size, idle RSS, exec to first accept, RSS per idle session (10,000 sessions
             that said EHLO) beside Postfix's per smtpd process
  syscalls   strace -c -f per message (sink and durable) and what each durable server fsyncs
             before its 250 (strace -f -y during one message)
Results: WORK/results.json and OUT/latest.json (OUT = bench/results), charts OUT/ratios.svg and
OUT/latency.svg (bench/chart.py), a Markdown summary OUT/summary.md, and the table on stdout.
"""
import argparse
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPS = os.path.join(REPO, "bench", ".deps")
ROOT = os.path.join(DEPS, "root")
HZ = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SESSIONS = 20
SIZE = 1024
SHAPES = ["keep-open", "per-conn", "load-tool"]
SHAPE_TEXT = {"keep-open": "smtp-source -s 20 -d (connections kept open)",
              "per-conn": "smtp-source -s 20 (a new connection per message)",
              "load-tool": "AbilisFast.Load --sessions 20 (PIPELINING, kept open)"}

args = None
work = None
pgid_file = None
started = []      # Popen objects of every server started (each in its own process group)
notes = []
used_ports = set()


def log(msg):
    print(msg, flush=True)


def note(msg):
    notes.append(msg)
    log("  ! " + msg)


# ------------------------------------------------------------------------------------------
# Processes: every server runs in its own process group, recorded in WORK/pgids so that
# bench/compare's EXIT trap can end what this script could not (it is SIGKILLed, say).

def spawn(argv, logname, cpu=0, env=None, cwd=None, nofile=None):
    def pre():
        os.sched_setaffinity(0, {cpu})
        if nofile:
            resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
    out = open(os.path.join(work, logname), "ab")
    p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         env=env, cwd=cwd, preexec_fn=pre, start_new_session=True)
    out.close()
    started.append(p)
    with open(pgid_file, "a") as f:
        f.write(f"{p.pid}\n")
    return p


def stop_proc(p, timeout=15):
    if p is None or p.poll() is not None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    try:
        os.killpg(p.pid, signal.SIGKILL)   # the group: children left behind too
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


def free_port():
    """A free port below the ephemeral range (so no client connection can hold it), never the
    same twice in a run."""
    import random
    while True:
        cand = random.randint(20000, 32000)
        if cand in used_ports:
            continue
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", cand))
        except OSError:
            continue
        finally:
            t.close()
        used_ports.add(cand)
        return cand


def wait_port(port, proc=None, timeout=30):
    t0 = time.time()
    while time.time() - t0 < timeout:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", port))
            s.close()
            return True
        except OSError:
            s.close()
        if proc is not None and proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False


def proc_tree(pid):
    """pid and every descendant."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def ticks(pid):
    """CPU ticks (utime+stime+cutime+cstime) of pid and its descendants: a reaped child is in its
    parent's cutime/cstime, a live one in its own."""
    t = 0
    for p in proc_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                st = f.read()
        except OSError:
            continue
        fields = st[st.rindex(")") + 2:].split()
        t += sum(int(x) for x in fields[11:15])
    return t


def ctx_switches(pid):
    """Context switches (voluntary and not) of every thread of pid and its descendants."""
    n = 0
    for p in proc_tree(pid):
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/status") as f:
                    for line in f:
                        if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                            n += int(line.split()[1])
            except OSError:
                pass
    return n


def status_kb(pid, key):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


# ------------------------------------------------------------------------------------------
# Servers. Each: start(), stop(), pid (for CPU), port, queued() (durable), clean() (durable,
# between runs), restart_each_run (durable: a fresh instance and spool for every measured run).

class Server:
    name = "?"
    mode = "sink"
    restart_each_run = False
    proc = None
    port = 0

    @property
    def pid(self):
        return self.proc.pid

    def queued(self):
        return None

    def clean(self):
        pass

    def stop(self):
        stop_proc(self.proc)
        self.proc = None

    def restart(self):
        self.stop()
        self.start()


class Abilis(Server):
    count = 0

    def __init__(self, mode, extra=()):
        self.mode = mode
        self.name = "abilisfast"
        self.extra = list(extra)
        self.restart_each_run = mode == "durable"
        self.admin = 0
        self.password = None
        self.wdir = None

    def start(self, extra=(), nofile=None):
        Abilis.count += 1
        d = os.path.join(work, f"af{Abilis.count}")
        if self.wdir and os.path.isdir(self.wdir):
            shutil.rmtree(self.wdir, ignore_errors=True)
        os.makedirs(d)
        self.wdir = d
        self.port, self.admin = free_port(), free_port()
        # r@local.test is a mail user: local domains take only users, aliases and postmaster (LOCAL-RCPT:KNOWN).
        run([args.bin, "user", "r", "--rights", "mail", "--wdir", d + "/data"], input="bench-pw\n")
        argv = [args.bin, "--wdir", d + "/data", f"TCP-LOCPORT:{self.port}", f"ADMIN-PORT:{self.admin}",
                "LOCAL-DOMAIN:local.test", "STORE-MB:YES", "SES-TOT:64", "MAX-IP-SES:64"]
        argv += ["SINK:YES"] if self.mode == "sink" else ["QUEUE-HOLD:YES"]
        argv += self.extra + list(extra)
        self.log = os.path.join(d, "server.log")
        self.proc = spawn(argv, os.path.relpath(self.log, work), nofile=nofile)
        t0 = time.time()
        while time.time() - t0 < 20:
            text = open(self.log, errors="replace").read()
            if "listening on port" in text:
                # The first start writes "admin PASSWORD" to WDIR/initial-admin-password (mode 0600).
                with open(os.path.join(d, "data", "initial-admin-password")) as f:
                    self.password = f.read().split()[1]
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        sys.exit("abilisfast did not start:\n" + open(self.log, errors="replace").read())

    def stop(self):
        super().stop()
        if self.wdir:
            shutil.rmtree(self.wdir, ignore_errors=True)

    def queued(self):
        r = run([args.bin, "ctl", "--port", str(self.admin), "d q smtp"],
                env=dict(os.environ, ABILISFAST_PASSWORD=self.password or ""))
        m = re.search(r"QUEUE-OUT:(\d+)", r.stdout)
        return int(m.group(1)) if m else -1


class SmtpSink(Server):
    name = "smtp-sink"

    def start(self):
        self.port = free_port()
        self.proc = spawn(["smtp-sink", "-u", "nobody", f"127.0.0.1:{self.port}", "256"], "smtp-sink.log")
        wait_port(self.port, self.proc) or sys.exit("smtp-sink did not start")


class SmtpServerSink(Server):
    name = "SmtpServer"

    def start(self):
        self.port = free_port()
        dll = os.path.join(DEPS, "smtpserver-sink", "smtpserver-sink.dll")
        self.proc = spawn(["dotnet", dll, str(self.port)], "smtpserver-sink.log")
        wait_port(self.port, self.proc) or sys.exit("smtpserver-sink did not start: see " + work + "/smtpserver-sink.log")


class Aiosmtpd(Server):
    name = "aiosmtpd"

    def start(self):
        self.port = free_port()
        env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, "usr/lib/python3/dist-packages"))
        self.proc = spawn(["/usr/bin/python3", os.path.join(REPO, "bench/peers/aiosmtpd-sink.py"), str(self.port)],
                          "aiosmtpd.log", env=env)
        wait_port(self.port, self.proc) or sys.exit("aiosmtpd did not start: see " + work + "/aiosmtpd.log")


class Postfix(Server):
    name = "postfix"
    mode = "durable"

    def __init__(self):
        self.base = os.path.join(work, "postfix")
        self.conf = os.path.join(self.base, "conf")
        self.queue = os.path.join(self.base, "queue")
        self.master = None

    @property
    def pid(self):
        return self.master

    def start(self):
        self.port = free_port()
        for d in (self.conf, self.queue, self.base + "/data"):
            os.makedirs(d, exist_ok=True)
        os.chmod(self.base, 0o755)
        shutil.chown(self.base + "/data", "postfix")
        with open(self.conf + "/main.cf", "w") as f:
            f.write(f"""# Private instance for bench/compare: accepts on 127.0.0.1:{self.port}, every message on hold.
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.base}/data
myhostname = postfix.bench.test
mydomain = bench.test
myorigin = $myhostname
mydestination =
relay_domains =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_recipient_restrictions = check_client_access static:HOLD, permit_mynetworks, reject
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_client_message_rate_limit = 0
smtpd_client_recipient_rate_limit = 0
# Held mail never reaches the queue manager, which gives smtpd its flow-control tokens:
# without this every message would wait in_flow_delay (1 s).
in_flow_delay = 0
alias_maps =
alias_database =
biff = no
smtpd_tls_security_level = none
maillog_file_prefixes = /var, /dev/stdout, {work}
maillog_file = {self.base}/maillog
""")
        with open(self.conf + "/master.cf", "w") as f:
            f.write(f"""127.0.0.1:{self.port} inet n - n - 300 smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
""")
        r = run(["taskset", "-c", "0", "postfix", "-c", self.conf, "start"])
        if r.returncode != 0:
            sys.exit("postfix did not start: " + r.stdout + r.stderr)
        pidf = self.queue + "/pid/master.pid"
        for _ in range(200):
            if os.path.exists(pidf) and open(pidf).read().strip():
                break
            time.sleep(0.05)
        self.master = int(open(pidf).read().strip())
        with open(pgid_file, "a") as f:
            f.write(f"{self.master}\n")    # the master is a session and group leader
        wait_port(self.port) or sys.exit("postfix did not listen")

    def queued(self):
        n = 0
        for sub in ("hold", "incoming", "active", "deferred"):
            for _, _, files in os.walk(os.path.join(self.queue, sub)):
                n += len(files)
        return n

    def clean(self):
        run(["postsuper", "-c", self.conf, "-d", "ALL"])

    def stop(self):
        if self.master is None:
            return
        run(["postfix", "-c", self.conf, "stop"])
        for _ in range(100):
            if not os.path.exists(f"/proc/{self.master}"):
                break
            time.sleep(0.1)
        try:
            os.killpg(self.master, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.master = None


def namespaced(base, users, binds, argv):
    """argv in a private mount namespace where /etc/passwd and /etc/group hold the peer's
    system users (the system's own files are not changed) and the given folders are bound over
    the compiled-in ones."""
    os.makedirs(base, exist_ok=True)
    pw, gr = open("/etc/passwd").read(), open("/etc/group").read()
    for name, uid in users:
        if f"\n{name}:" not in "\n" + pw:
            pw += f"{name}:x:{uid}:{uid}::/nonexistent:/usr/sbin/nologin\n"
        if f"\n{name}:" not in "\n" + gr:
            gr += f"{name}:x:{uid}:\n"
    open(base + "/passwd", "w").write(pw)
    open(base + "/group", "w").write(gr)
    # No DNS: the peer would ask the machine's resolver (OpenSMTPD does, for each client); a
    # loopback address where nothing listens fails at once, and "lookup file" tells OpenSMTPD's
    # resolver library to use /etc/hosts only.
    open(base + "/resolv.conf", "w").write("nameserver 127.255.255.254\noptions timeout:1 attempts:1\nlookup file\n")
    mounts = [f"mount --bind {base}/passwd /etc/passwd", f"mount --bind {base}/group /etc/group",
              f"mount --bind {base}/resolv.conf /etc/resolv.conf"]
    mounts += [f"mount --bind {src} {dst}" for src, dst in binds]
    script = " && ".join(mounts) + " && exec " + " ".join(argv)
    return ["unshare", "-m", "--propagation", "private", "--", "sh", "-c", script]


class Exim(Server):
    name = "exim"
    mode = "durable"
    uid = 60010

    def __init__(self):
        self.base = os.path.join(work, "exim")

    def start(self):
        self.port = free_port()
        spool, logd = self.base + "/spool", self.base + "/log"
        os.makedirs(spool, exist_ok=True)
        os.makedirs(logd, exist_ok=True)
        with open(self.base + "/exim.conf", "w") as f:
            f.write(f"""# Private instance for bench/compare: receives on 127.0.0.1:{self.port} and only queues
# (queue_only, and no queue runner is started), so every accepted message stays in the spool.
primary_hostname = exim.bench.test
exim_user = Debian-exim
exim_group = Debian-exim
spool_directory = {spool}
log_file_path = {logd}/%slog
daemon_smtp_ports = {self.port}
local_interfaces = 127.0.0.1
queue_only = true
host_lookup =
smtp_accept_max = 0
smtp_accept_queue_per_connection = 0
tls_advertise_hosts =
keep_environment =
acl_smtp_rcpt = acl_check_rcpt
begin acl
acl_check_rcpt:
  accept
begin routers
begin transports
""")
        for d in (spool, logd):
            os.chown(d, self.uid, self.uid)
        argv = namespaced(self.base, [("Debian-exim", self.uid)], [],
                          [ROOT + "/usr/sbin/exim4", "-C", self.base + "/exim.conf", "-bdf"])
        self.proc = spawn(argv, "exim/daemon.log")
        wait_port(self.port, self.proc) or sys.exit("exim did not start: see " + self.base)

    def queued(self):
        d = self.base + "/spool/input"
        return sum(1 for f in os.listdir(d) if f.endswith("-H")) if os.path.isdir(d) else 0

    def clean(self):
        for sub in ("input", "msglog"):
            d = os.path.join(self.base, "spool", sub)
            if os.path.isdir(d):
                for f in os.listdir(d):
                    try:
                        os.unlink(os.path.join(d, f))
                    except OSError:
                        pass


class OpenSmtpd(Server):
    name = "opensmtpd"
    mode = "durable"
    restart_each_run = True

    def __init__(self):
        self.base = os.path.join(work, "opensmtpd")

    def start(self):
        self.port = free_port()
        shutil.rmtree(self.base, ignore_errors=True)
        for d in ("varspool", "varlib/opensmtpd/empty", "run"):
            os.makedirs(os.path.join(self.base, d))
        with open(self.base + "/smtpd.conf", "w") as f:
            f.write(f"""# Private instance for bench/compare: accepts on 127.0.0.1:{self.port}; started with the
# mta and mda paused (smtpd -P mta -P mda), so every accepted message stays in the queue.
listen on 127.0.0.1 port {self.port}
# No per-session message limit (the default, 100, answers 452 to the 101st MAIL of a session).
smtp limit max-mails 1000000
action "hold" relay host smtp://127.0.0.1:9
match from any for any action "hold"
""")
        # OpenSMTPD's spool (/var/spool/smtpd), chroot (/var/lib/opensmtpd/empty) and control
        # socket (/run/smtpd.sock) are compiled in: private folders are bound over them.
        binds = [(self.base + "/varspool", "/var/spool"), (self.base + "/varlib", "/var/lib"), (self.base + "/run", "/run")]
        argv = namespaced(self.base, [("opensmtpd", 60011), ("opensmtpq", 60012)], binds,
                          [ROOT + "/usr/sbin/smtpd", "-d", "-f", self.base + "/smtpd.conf", "-P", "mta", "-P", "mda"])
        self.proc = spawn(argv, "opensmtpd-daemon.log")
        wait_port(self.port, self.proc) or sys.exit("opensmtpd did not start: see " + work + "/opensmtpd-daemon.log")

    def queued(self):
        q = self.base + "/varspool/smtpd/queue"
        n = 0
        for dp, _, files in os.walk(q):
            n += sum(1 for f in files if f != "message")
        return n


# ------------------------------------------------------------------------------------------
# Clients. All on CPU 1 (this script's affinity, inherited).

def load_tool_argv():
    return ["dotnet", os.path.join(REPO, "tools/AbilisFast.Load/bin/Release/net10.0/abilisfast-load.dll")]


def client(shape, port, n, size=SIZE, sessions=SESSIONS, label=""):
    """Runs one client; returns (seconds, messages/s by the client's own clock or None, json)."""
    if shape in ("keep-open", "per-conn"):
        argv = ["smtp-source", "-s", str(sessions), "-m", str(n), "-l", str(size), "-f", "s@client.test",
                "-t", "r@local.test", f"127.0.0.1:{port}"]
        if shape == "keep-open":
            argv.insert(1, "-d")
        t0 = time.perf_counter()
        r = run(argv)
        secs = time.perf_counter() - t0
        if r.returncode != 0 or r.stderr.strip():
            note(f"smtp-source ({label or port}, {shape}, {n} messages): exit {r.returncode} {r.stderr.strip()[:200]}")
        return secs, n / secs, None
    argv = load_tool_argv() + ["--server", f"127.0.0.1:{port}", "--sessions", str(sessions), "--messages", str(n),
                               "--size", str(size), "--from", "s@client.test", "--to", "r@local.test", "--json", "--quiet",
                               "--timeout", "5s"]
    t0 = time.perf_counter()
    r = run(argv)
    secs = time.perf_counter() - t0
    try:
        j = json.loads(r.stdout)
    except ValueError:
        note(f"load tool ({label or port}): exit {r.returncode} {r.stderr.strip()[:200]}")
        return secs, 0, None
    if j["errors"] or j["accepted"] != n:
        note(f"load tool ({label or port}, {n} messages): {j['accepted']} accepted, {j['replies_4xx']} 4xx, {j['replies_5xx']} 5xx, "
             f"errors: {j['errors_connect']} connect, {j['errors_dropped']} dropped, {j['errors_timeout']} timeouts, {j['errors_malformed']} malformed")
    return j["elapsed_s"], j["messages_per_s"], j


def measured_run(server, shape, n):
    """One measured run: (msgs/s, server CPU µs per message)."""
    base = server.queued() if server.mode == "durable" else None
    c0, x0 = ticks(server.pid), ctx_switches(server.pid)
    secs, rate, _ = client(shape, server.port, n, label=server.name)
    c1, x1 = ticks(server.pid), ctx_switches(server.pid)
    if server.mode == "durable":
        q = server.queued()
        if q - base != n:
            note(f"{server.name} {shape}: {q - base} messages queued for {n} acknowledged")
    return rate, (c1 - c0) * 1e6 / HZ / n, (x1 - x0) / n


def fresh(server):
    """Durable servers start a measured run from an empty queue."""
    if server.restart_each_run:
        server.restart()
    else:
        server.clean()


def calibrate(server, shape):
    """Warm-up run that also sets the message count: about --run-secs of work at this server's
    speed (at least 200 messages)."""
    n0 = 100 if server.mode == "durable" else 1000
    secs, rate, _ = client(shape, server.port, n0, label=server.name + " calibration")
    return max(30, int(rate * args.run_secs))


def spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "runs": values}


def throughput(mode, servers, results):
    """Every (server, shape), --reps runs alternating server by server within each rep."""
    counts = {}
    for shape in SHAPES:
        for s in servers:
            fresh(s) if s.mode == "durable" else None
            counts[(s.name, shape)] = calibrate(s, shape)
    log(f"   message counts per run: " + ", ".join(f"{k[0]}/{k[1]} {v}" for k, v in counts.items()))
    runs = {}
    for rep in range(1, args.reps + 1):
        for shape in SHAPES:
            for s in servers:
                if s.mode == "durable":
                    fresh(s)
                    client(shape, s.port, 20, label=s.name + " warm-up")   # a short warm-up on the fresh instance
                rate, cpu, cs = measured_run(s, shape, counts[(s.name, shape)])
                runs.setdefault((s.name, shape), []).append((rate, cpu, cs))
                log(f"   rep {rep} {shape:<9} {s.name:<11} {rate:>9,.0f} msgs/s {cpu:>8.1f} µs CPU/msg {cs:>6.2f} context switches/msg")
        if any(s.mode == "durable" for s in servers):
            for s in servers:
                s.clean()
    ours = servers[0].name
    out = {}
    for s in servers:
        shapes = {}
        for shape in SHAPES:
            r = runs[(s.name, shape)]
            rates, cpus = [x[0] for x in r], [x[1] for x in r]
            e = {"messages_per_run": counts[(s.name, shape)], "msgs_s": spread(rates), "cpu_us_per_msg": spread(cpus),
                 "ctx_switches_per_msg": spread([x[2] for x in r])}
            if s.name != ours:
                mine = runs[(ours, shape)]
                e["ratio"] = statistics.median(x[0] for x in mine) / statistics.median(rates)
                # (a slow peer's run can take less than one 10 ms clock tick of CPU: 0)
                e["cpu_ratio"] = statistics.median(x[1] for x in mine) / max(statistics.median(cpus), 1e-9)
                pair = [m[0] / max(p[0], 1e-9) for m, p in zip(mine, r)]
                e["ratio_spread"] = {"min": min(pair), "max": max(pair)}
                pc = [m[1] / max(p[1], 1e-9) for m, p in zip(mine, r)]
                e["cpu_ratio_spread"] = {"min": min(pc), "max": max(pc)}
            shapes[shape] = e
        out[s.name] = shapes
    results[mode] = out


# ------------------------------------------------------------------------------------------
# Latency: open loop at a fixed offered rate.

def open_loop(server, rate):
    dur = args.lat_secs
    warm = 1.0 if not args.quick else 0.3
    argv = load_tool_argv() + ["--server", f"127.0.0.1:{server.port}", "--sessions", str(SESSIONS),
                               "--rate", str(rate), "--duration", f"{dur + warm}s", "--warmup", f"{warm}s",
                               "--grace", "2s" if not args.quick else "0.5s",
                               "--size", str(SIZE), "--from", "s@client.test", "--to", "r@local.test", "--json", "--quiet",
                               "--timeout", "5s"]
    r = run(argv)
    try:
        return json.loads(r.stdout)
    except ValueError:
        note(f"load tool open loop ({server.name}): exit {r.returncode} {r.stderr.strip()[:200]}")
        return None


def latency(servers, max_rate, results):
    fractions = [50, 90]
    rates = {f: round(max_rate * f / 100) for f in fractions}
    out = {"max_rate": max_rate, "rates": rates, "servers": {}}
    raw = {}
    for rep in range(1, args.reps + 1):
        for f in fractions:
            for s in servers:
                fresh(s)
                j = open_loop(s, rates[f])
                if j is None:
                    continue
                raw.setdefault((s.name, f), []).append(j)
                log(f"   rep {rep} {f}% ({rates[f]:,}/s) {s.name:<11} achieved {j['messages_per_s']:>8,.0f}/s "
                    f"p50 {j['p50_ms']:.2f} p99 {j['p99_ms']:.2f} p99.9 {j['p999_ms']:.2f} ms, unsent {j['unsent']}")
    for s in servers:
        e = {}
        for f in fractions:
            js = raw.get((s.name, f), [])
            if not js:
                continue
            def sp(key):
                v = [j[key] for j in js]
                return {"median": statistics.median(v), "min": min(v), "max": max(v)}
            # The curve shown: the run whose p99 is the median one.
            mid = sorted(js, key=lambda j: j["p99_ms"])[len(js) // 2]
            e[f"{f}%"] = {
                "offered_per_s": rates[f], "achieved_per_s": sp("messages_per_s"),
                "p50": statistics.median(j["p50_ms"] for j in js), "p90": statistics.median(j["p90_ms"] for j in js),
                "p99": statistics.median(j["p99_ms"] for j in js), "p999": statistics.median(j["p999_ms"] for j in js),
                "spread": {k: sp(k + "_ms") for k in ("p50", "p90", "p99", "p999")},
                "accept": {"p50": statistics.median(j["accept_p50_ms"] for j in js),
                           "p90": statistics.median(j["accept_p90_ms"] for j in js),
                           "p99": statistics.median(j["accept_p99_ms"] for j in js),
                           "p999": statistics.median(j["accept_p999_ms"] for j in js)},
                "unsent": sp("unsent"), "client_lag_p99_ms": sp("lag_p99_ms"),
                "curve": mid["percentiles"], "accept_curve": mid["accept_percentiles"],
            }
        out["servers"][s.name] = e
    results["latency"] = out


# ------------------------------------------------------------------------------------------
# Large messages against the disk.

def disk_bandwidth(folder):
    """dd of 512 MiB (128 MiB quick) with conv=fdatasync into folder: MB/s."""
    mib = 128 if args.quick else 512
    f = os.path.join(folder, "dd.test")
    t0 = time.perf_counter()
    r = run(["dd", "if=/dev/zero", f"of={f}", "bs=1M", f"count={mib}", "conv=fdatasync"])
    secs = time.perf_counter() - t0
    os.unlink(f)
    if r.returncode != 0:
        note("dd failed: " + r.stderr[-200:])
        return 0
    return mib * 1048576 / 1e6 / secs


def per_message_fsync_bandwidth(folder, size, messages, writers=4):
    """The durable work a server must do per message, without a server: `writers` threads (like
    the 4 sessions) each write its share of `messages` bodies of `size` bytes in 1 MiB os.write
    calls into its own file and fdatasync after each body. MB/s in total. The ceiling for a relay
    that syncs each message before its 250 (raw sequential bandwidth assumes one sync at the end)."""
    import threading
    chunk = b"x" * min(size, 1048576)
    failed = []

    def writer(i, count):
        path = os.path.join(folder, f"fsync-ref.{i}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                for _ in range(count):
                    left = size
                    while left > 0:
                        left -= os.write(fd, chunk[:left])
                    os.fdatasync(fd)
            finally:
                os.close(fd)
                os.unlink(path)
        except OSError as e:
            failed.append(str(e))

    shares = [messages // writers + (1 if i < messages % writers else 0) for i in range(writers)]
    threads = [threading.Thread(target=writer, args=(i, n)) for i, n in enumerate(shares)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    if failed:
        note("per-message fsync reference failed: " + failed[0])
        return 0
    return messages * size / 1e6 / secs


def large(results):
    out = {"sizes": {}}
    disk = []
    for size_mb in (1, 10):
        size = size_mb * 1048576
        s = Abilis("durable", ["MSG-MAXSIZE:65535"])
        rates, hwm, per_run, fsync_ref, cpu = [], [], None, [], []
        for rep in range(1, (1 if args.quick else args.reps) + 1):
            disk.append(disk_bandwidth(work))
            s.start()
            warm = 4 if size_mb == 10 else 20
            secs, rate, _ = client("load-tool", s.port, warm, size=size, sessions=4)
            if per_run is None:
                per_run = max(8, int(rate * args.run_secs * (1 if args.quick else 1.5)))
            base = s.queued()
            c0 = ticks(s.pid)
            secs, rate, j = client("load-tool", s.port, per_run, size=size, sessions=4)
            cpu.append((ticks(s.pid) - c0) * 1e3 / HZ / (per_run * size / 1e6))
            mbs = rate * size / 1e6
            q = s.queued() - base
            if q != per_run:
                note(f"large {size_mb} MB: {q} queued for {per_run} sent")
            rates.append(mbs)
            hwm.append(status_kb(s.pid, "VmHWM"))
            s.stop()
            # The same bytes, 4 writers, an fdatasync per message, no server (right after the run).
            fsync_ref.append(per_message_fsync_bandwidth(work, size, per_run))
            log(f"   rep {rep} {size_mb} MB x {per_run}: {mbs:,.0f} MB/s, {cpu[-1]:.2f} ms CPU per MB, peak RSS {hwm[-1] / 1024:.1f} MB; disk {disk[-1]:,.0f} MB/s, "
                f"write+fdatasync per message (4 writers) {fsync_ref[-1]:,.0f} MB/s")
        out["sizes"][f"{size_mb}MB"] = {"messages_per_run": per_run, "sessions": 4, "mb_s": spread(rates),
                                       "peak_rss_mb": spread([h / 1024 for h in hwm]),
                                       "fsync_per_message_mb_s": spread(fsync_ref),
                                       "cpu_ms_per_mb": spread(cpu),
                                       "ratio_to_fsync_per_message": statistics.median(r / f for r, f in zip(rates, fsync_ref) if f > 0)
                                       if any(f > 0 for f in fsync_ref) else 0}
        # The same client against servers that keep nothing: abilisfast SINK:YES (the receive
        # path without the disk) and smtp-sink (what the client itself can send).
        for other in (Abilis("sink", ["MSG-MAXSIZE:65535"]), SmtpSink()):
            other.start()
            client("load-tool", other.port, 4 if size_mb == 10 else 20, size=size, sessions=4)
            v, vc = [], []
            for _ in range(1 if args.quick else 3):
                c0 = ticks(other.pid)
                _, rate, _ = client("load-tool", other.port, per_run, size=size, sessions=4)
                vc.append((ticks(other.pid) - c0) * 1e3 / HZ / (per_run * size / 1e6))
                v.append(rate * size / 1e6)
            out["sizes"][f"{size_mb}MB"][f"{other.name}_{other.mode}_mb_s"] = spread(v)
            out["sizes"][f"{size_mb}MB"][f"{other.name}_{other.mode}_cpu_ms_per_mb"] = spread(vc)
            log(f"   {size_mb} MB into {other.name} ({other.mode}, nothing kept): {statistics.median(v):,.0f} MB/s, "
                f"{statistics.median(vc):.2f} ms CPU per MB")
            other.stop()
        if ({"syscalls", "large-syscalls"} & set(args.only.split(","))) and not args.quick:
            # Where the time goes: system calls per message of one more run under strace -c.
            s.start()
            out["sizes"][f"{size_mb}MB"]["syscalls"] = strace_count(s, "load-tool", max(4, per_run // 2), size=size, sessions=4)
            s.stop()
    out["disk_mb_s"] = spread(disk)
    for k, v in out["sizes"].items():
        v["ratio_to_disk"] = v["mb_s"]["median"] / out["disk_mb_s"]["median"]
    results["large"] = out


# ------------------------------------------------------------------------------------------
# Footprint.

def startup_ms():
    port, admin = free_port(), free_port()
    d = os.path.join(work, "start")
    os.makedirs(d, exist_ok=True)
    argv = [args.bin, "--wdir", d + "/data", f"TCP-LOCPORT:{port}", f"ADMIN-PORT:{admin}", "LOCAL-DOMAIN:local.test",
            "STORE-MB:YES", "QUEUE-HOLD:YES"]

    def once():
        with open(d + "/server.log", "ab") as err:
            t0 = time.perf_counter()
            p = subprocess.Popen(argv, stderr=err, stdout=subprocess.DEVNULL, start_new_session=True,
                                 preexec_fn=lambda: os.sched_setaffinity(0, {0}))
        started.append(p)
        try:
            while True:
                s = socket.socket()
                try:
                    s.connect(("127.0.0.1", port))
                    t1 = time.perf_counter()
                    break
                except ConnectionRefusedError:
                    s.close()
                    if p.poll() is not None or time.perf_counter() - t0 > 10:
                        sys.exit("abilisfast did not start, see " + d + "/server.log")
            banner = s.recv(512)
            t2 = time.perf_counter()
            s.close()
            return (t1 - t0) * 1000, (t2 - t0) * 1000
        finally:
            stop_proc(p)
    first = once()
    again = [once() for _ in range(5)]
    return {"first_start_connect_ms": first[0], "connect_ms": statistics.median(a for a, _ in again),
            "banner_ms": statistics.median(b for _, b in again)}


def open_idle_sessions(port, n):
    """n connections to port, each greeted and past EHLO; returns the sockets (kept open)."""
    socks = []
    for i in range(n):
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        socks.append(s)
    ok = 0
    for s in socks:
        s.settimeout(30)
        buf = b""
        while not buf.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        s.sendall(b"EHLO idle.test\r\n")
        buf = b""
        while not re.search(rb"(^|\n)250 [^\n]*\n$", buf):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
        ok += buf.startswith(b"250")
    return socks, ok


def footprint(results, postfix):
    out = {"binary_bytes": os.path.getsize(args.bin)}
    out.update(startup_ms())
    s = Abilis("durable")
    s.start()
    time.sleep(1)
    out["idle_rss_kb"] = status_kb(s.pid, "VmRSS")
    s.stop()
    n = 1000 if args.quick else 10000
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    s = Abilis("durable", [f"SES-TOT:{n + 100}", f"MAX-IP-SES:{n + 100}", "DT:600"])
    s.start(nofile=hard)
    time.sleep(1)
    before = status_kb(s.pid, "VmRSS")
    socks, ok = open_idle_sessions(s.port, n)
    time.sleep(1)
    after = status_kb(s.pid, "VmRSS")
    if ok != n:
        note(f"idle sessions: {ok} of {n} got a 250 to EHLO")
    out["idle_sessions"] = {"sessions": n, "ehlo_ok": ok, "rss_before_kb": before, "rss_after_kb": after,
                            "per_session_bytes": (after - before) * 1024 / n}
    for x in socks:
        x.close()
    s.stop()
    # Postfix: one smtpd process per session. A few hundred, the PSS of each (shared pages split
    # among the processes that map them) and its RSS.
    if postfix is not None:
        m = 50 if args.quick else 250
        socks, ok = open_idle_sessions(postfix.port, m)
        time.sleep(1)
        smtpds = []
        for p in proc_tree(postfix.master):
            try:
                if open(f"/proc/{p}/comm").read().strip() == "smtpd":
                    smtpds.append(p)
            except OSError:
                pass
        pss = sum(pss_kb(p) for p in smtpds)
        rss = sum(status_kb(p, "VmRSS") for p in smtpds)
        out["postfix_idle_sessions"] = {"sessions": m, "ehlo_ok": ok, "smtpd_processes": len(smtpds),
                                        "pss_per_session_bytes": pss * 1024 / max(1, len(smtpds)),
                                        "rss_per_session_bytes": rss * 1024 / max(1, len(smtpds))}
        for x in socks:
            x.close()
    results["footprint"] = out


# ------------------------------------------------------------------------------------------
# System calls.

def strace_count(server, shape, n, size=SIZE, sessions=SESSIONS):
    pids = proc_tree(server.pid)
    attach = []
    for p in pids:
        attach += ["-p", str(p)]
    outf = os.path.join(work, f"strace-c.{server.name}.{server.mode}.{shape}")
    st = subprocess.Popen(["strace", "-c", "-f", "-o", outf] + attach, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    client(shape, server.port, n, size=size, sessions=sessions)
    time.sleep(0.2)
    st.send_signal(signal.SIGINT)
    st.wait(timeout=30)
    total, top = 0, []
    for line in open(outf):
        f = line.split()
        if len(f) >= 5 and f[-1] == "total":
            total = int(f[3])
        elif len(f) >= 5 and re.match(r"^[0-9.]+$", f[0]):
            top.append((f[-1], int(f[3])))
    top.sort(key=lambda x: -x[1])
    return {"messages": n, "per_msg": total / n, "top": {k: round(v / n, 2) for k, v in top[:8]}}


def sync_times(server, rate):
    """How long each fsync/fdatasync of the server takes, and how many messages share one, during
    an open-loop run at rate: strace -f -T on its syncs only."""
    fresh(server)
    attach = []
    for p in proc_tree(server.pid):
        attach += ["-p", str(p)]
    outf = os.path.join(work, "strace-syncs.abilisfast")
    st = subprocess.Popen(["strace", "-f", "-T", "-o", outf, "-e", "trace=fsync,fdatasync"] + attach,
                          stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    time.sleep(0.7)
    j = open_loop(server, rate)
    time.sleep(0.2)
    st.send_signal(signal.SIGINT)
    st.wait(timeout=30)
    d = sorted(float(m.group(1)) * 1000 for m in re.finditer(r"<([0-9.]+)>$", open(outf).read(), re.M))
    if not d or j is None:
        return None
    def pct(p):
        return d[min(len(d) - 1, int(p / 100 * len(d)))]
    return {"offered_per_s": rate, "messages": j["messages"], "syncs": len(d),
            "messages_per_sync": j["messages"] / len(d), "sync_ms_p50": pct(50), "sync_ms_p90": pct(90),
            "sync_ms_p99": pct(99), "sync_ms_max": d[-1], "p99_under_strace": j["p99_ms"]}


def fsync_before_250(server):
    """What the server fsyncs between the end of DATA and its 250: strace -f -y of the server's
    processes during one message sent with smtplib."""
    import smtplib
    client("keep-open", server.port, 2)    # the first message may create files (a spool segment)
    pids = proc_tree(server.pid)
    attach = []
    for p in pids:
        attach += ["-p", str(p)]
    outf = os.path.join(work, f"strace-fsync.{server.name}")
    st = subprocess.Popen(["strace", "-f", "-y", "-s", "40", "-o", outf,
                           "-e", "trace=fsync,fdatasync,sync_file_range,syncfs,msync,sync,write,writev,sendto,sendmsg,rename,renameat,renameat2,link"]
                          + attach, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    time.sleep(0.7)
    try:
        with smtplib.SMTP("127.0.0.1", server.port, timeout=30) as c:
            c.ehlo("fsync.test")
            c.sendmail("s@client.test", ["r@local.test"], b"Subject: fsync\r\n\r\none line\r\n")
    except Exception as e:
        note(f"fsync check {server.name}: {e}")
    time.sleep(0.5)
    st.send_signal(signal.SIGINT)
    st.wait(timeout=30)
    lines = open(outf, errors="replace").read().splitlines()
    after354 = False
    found = []
    for line in lines:
        if re.search(r'(write|sendto|sendmsg|writev)\(\d+<(TCP|socket|UNIX)[^"]*"354', line):
            after354, found = True, []
            continue
        if after354 and re.search(r'(write|sendto|sendmsg|writev)\(\d+<(TCP|socket)[^"]*"250', line):
            break
        if after354 and re.search(r"\b(fsync|fdatasync|sync_file_range|syncfs|msync|rename|renameat2?|link)\(", line):
            m = re.search(r"\b(fsync|fdatasync|sync_file_range|syncfs|msync|rename|renameat2?|link)\((.*)", line)
            call, rest = m.group(1), m.group(2)
            paths = re.findall(r"<(/[^>]*)>|\"([^\"]*)\"", rest)
            p = [a or b for a, b in paths]
            failed = " failed" if re.search(r"= -1 ", line) else ""
            found.append(call + "(" + ", ".join(re.sub(r"^" + re.escape(work), "", x) for x in p) + ")" + failed)
    if not after354:
        note(f"fsync check {server.name}: no 354 seen in the trace")
    return found


# ------------------------------------------------------------------------------------------

def section(name, fn, results):
    """Runs one section; an error is noted (with its traceback in WORK/errors.log) and the run goes
    on; the results so far are saved after every section."""
    try:
        fn()
    except Exception:
        import traceback
        with open(os.path.join(work, "errors.log"), "a") as f:
            f.write(f"== {name}\n{traceback.format_exc()}\n")
        note(f"section {name} failed: {traceback.format_exc().strip().splitlines()[-1]} (see errors.log)")
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)


def main():
    global args, work, pgid_file
    ap = argparse.ArgumentParser(prog="bench/compare", description="AbilisFast side by side with its peers")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=0)
    ap.add_argument("--only", default="sink,durable,latency,large,footprint,syscalls")
    ap.add_argument("--bin", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    ap.add_argument("--no-publish-results", action="store_true")
    args = ap.parse_args()
    if args.reps <= 0:
        args.reps = 2 if args.quick else 5
    args.run_secs = 0.25 if args.quick else 2.5
    args.lat_secs = 0.5 if args.quick else 3.0
    only = set(args.only.split(","))
    work = args.work
    pgid_file = os.path.join(work, "pgids")
    os.sched_setaffinity(0, {1})
    t_start = time.time()

    def on_signal(sig, _):
        raise SystemExit(128 + sig)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    results = {"date": time.strftime("%Y-%m-%d %H:%M %Z"), "quick": args.quick, "reps": args.reps,
               "machine": {"cpus": os.cpu_count(),
                           "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?"),
                           "kernel": os.uname().release},
               "versions": {"postfix": run(["postconf", "-h", "mail_version"]).stdout.strip()},
               "setup": {"sessions": SESSIONS, "size": SIZE, "servers_cpu": 0, "clients_cpu": 1,
                         "run_secs": args.run_secs, "shapes": SHAPE_TEXT}}
    for p in ("opensmtpd", "exim4-daemon-light", "python3-aiosmtpd"):
        try:
            results["versions"][p] = open(os.path.join(DEPS, "debs", p + ".stamp")).read().strip()
        except OSError:
            pass
    results["versions"]["SmtpServer"] = "11.1.0"
    with open("/proc/loadavg") as f:
        results["machine"]["loadavg_at_start"] = f.read().split()[0]
    postfix = None
    try:
        if "sink" in only:
            log("== sink mode: abilisfast SINK:YES, smtp-sink, SmtpServer, aiosmtpd (runs alternating)")
            servers = [Abilis("sink"), SmtpSink(), SmtpServerSink(), Aiosmtpd()]
            for s in servers:
                s.start()
            section("sink", lambda: throughput("sink", servers, results), results)
            if "syscalls" in only and not args.quick:
                def sink_syscalls():
                    sc = {}
                    for s in servers:
                        for shape in ("keep-open", "per-conn"):
                            sc.setdefault(s.name, {})[shape] = strace_count(s, shape, 2000)
                    results.setdefault("syscalls", {})["sink"] = sc
                section("syscalls", sink_syscalls, results)
            for s in servers:
                s.stop()
        need_durable = only & {"durable", "latency", "syscalls", "footprint"}
        if need_durable:
            servers = [Abilis("durable"), Postfix(), Exim(), OpenSmtpd()]
            for s in servers:
                s.start()
            postfix = servers[1]
            if "durable" in only:
                log("== durable mode: abilisfast QUEUE-HOLD:YES, postfix (hold), exim (queue_only), opensmtpd (paused)")
                section("durable", lambda: throughput("durable", servers, results), results)
            if "latency" in only:
                if "durable" in results:
                    max_rate = results["durable"]["abilisfast"]["load-tool"]["msgs_s"]["median"]
                else:
                    fresh(servers[0])
                    _, max_rate, _ = client("load-tool", servers[0].port, 20000)
                log(f"== latency: open loop at 50 % and 90 % of abilisfast's durable maximum ({max_rate:,.0f} msgs/s, load tool, 20 sessions)")
                section("latency", lambda: latency(servers, max_rate, results), results)
            if "syscalls" in only:
                def durable_syscalls():
                    log("== what each durable server fsyncs before its 250 (strace -f -y, one message)")
                    fs = {}
                    for s in servers:
                        fresh(s)
                        fs[s.name] = fsync_before_250(s)
                        log(f"   {s.name}: {'; '.join(fs[s.name]) or 'nothing'}")
                    results["fsync_before_250"] = fs
                    if not args.quick and "latency" in results:
                        results["latency"]["abilisfast_syncs"] = sync_times(servers[0], results["latency"]["rates"][50])
                    if not args.quick:
                        sc = {}
                        for s in servers:
                            fresh(s)
                            sc[s.name] = {"keep-open": strace_count(s, "keep-open", 2000)}
                        results.setdefault("syscalls", {})["durable"] = sc
                section("syscalls", durable_syscalls, results)
            if "footprint" in only:
                log("== footprint")
                section("footprint", lambda: footprint(results, postfix), results)
            for s in servers:
                s.stop()
        if "large" in only:
            log("== large messages: 1 MB and 10 MB, durable, against dd conv=fdatasync in the same folder")
            section("large", lambda: large(results), results)
    finally:
        for p in started:
            stop_proc(p)
        if postfix is not None:
            postfix.stop()
    results["notes"] = notes
    results["elapsed_s"] = round(time.time() - t_start)
    with open(os.path.join(work, "results.json"), "w") as f:
        json.dump(results, f, indent=1)
    sys.path.insert(0, os.path.join(REPO, "bench"))
    import report
    text, md = report.summarise(results)
    print()
    print(text)
    if not args.no_publish_results:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "latest.json"), "w") as f:
            json.dump(results, f, indent=1)
        with open(os.path.join(args.out, "summary.md"), "w") as f:
            f.write(md)
        import chart
        chart.write_all(results, args.out)
        log(f"\nwrote {args.out}/latest.json, summary.md, ratios.svg, latency.svg")


if __name__ == "__main__":
    main()
