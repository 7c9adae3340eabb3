#!/usr/bin/env python3
"""Footprint of the abilisfast binary: size, start time, idle RSS, the cost of SES-TOT slots and of
idle sessions, the rate a client still gets beside them, and Postfix's cost per smtpd session.

Usage (as root for the Postfix part; everything else runs as any user):
  tools/footprint.py [--bin PATH] [--reps 5] [--sessions 10000] [--rate-messages 20000]
                     [--postfix 300] [--skip start,idle,slots,sessions,postfix] [--runner 'qemu-aarch64 -L ...']

  --bin PATH          the Native AOT binary (default: publish/abilisfast, or ABILISFAST_BIN)
  --reps N            starts measured for the start time and idle RSS (median shown), and runs of
                      the client rate with and without the idle sessions (alternating)
  --sessions N        idle sessions opened at once: connect, read the 220, EHLO, read the 250, then wait
  --rate-messages N   messages per smtp-source run (-s 20 -l 1024 -d, SINK:YES)
  --postfix N         smtpd processes of a private Postfix instance (postfix -c DIR), each with an
                      EHLO'd idle client; 0 skips it
  --skip LIST         parts to leave out
  --runner CMD        run the binary under CMD (e.g. qemu for arm64; the rate and Postfix parts are skipped)

Every figure is printed as 'name value' lines and, at the end, as one table. RSS and PSS come from
/proc/PID/status and /proc/PID/smaps_rollup. Nothing is left running: every server started here is
stopped on exit (Postfix with 'postfix -c DIR stop'), and the temporary folder is removed.
"""
import argparse
import os
import resource
import selectors
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
started = []          # Popen objects to stop
postfix_confs = []    # private Postfix instances to stop
work = tempfile.mkdtemp(prefix="abilisfast-footprint.")
os.chmod(work, 0o755)


def log(text):
    print(text, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kb(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def pss_kb(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    raise KeyError("Pss")


def server_pid(proc):
    """The server's own pid (under qemu-user the emulator is the process itself)."""
    return proc.pid


class Server:
    def __init__(self, binary, runner, name, *params):
        self.dir = os.path.join(work, name)
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.admin = free_port()
        argv = runner + [binary, "--wdir", os.path.join(self.dir, "data"), f"TCP-LOCPORT:{self.port}",
                         f"ADMIN-PORT:{self.admin}", "LOCAL-DOMAIN:local.test", *params]
        self.err = open(os.path.join(self.dir, "server.log"), "ab")
        self.t0 = time.perf_counter()
        self.proc = subprocess.Popen(argv, stderr=self.err, stdout=subprocess.DEVNULL)
        started.append(self.proc)
        self.first_connect_ms = None
        deadline = time.perf_counter() + 60
        while True:
            s = socket.socket()
            try:
                s.connect(("127.0.0.1", self.port))
                self.first_connect_ms = (time.perf_counter() - self.t0) * 1000
                banner = s.recv(512)
                if not banner.startswith(b"220"):
                    raise SystemExit(f"unexpected banner {banner!r}")
                s.sendall(b"QUIT\r\n")
                s.recv(512)
                break
            except ConnectionRefusedError:
                if self.proc.poll() is not None or time.perf_counter() > deadline:
                    raise SystemExit(f"abilisfast did not start, see {self.dir}/server.log:\n" + open(self.err.name).read()[-2000:])
                time.sleep(0.0005)
            finally:
                s.close()

    @property
    def pid(self):
        return server_pid(self.proc)

    def rss(self):
        return status_kb(self.pid, "VmRSS")

    def pss(self):
        return pss_kb(self.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        started.remove(self.proc)
        self.err.close()


def open_idle(port, n, batch=200):
    """n connections that read the 220, send EHLO, read the whole 250 reply, then stay open."""
    sel = selectors.DefaultSelector()
    done = []
    pending = 0
    opened = 0
    state = {}

    def start_one():
        nonlocal opened, pending
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        state[s] = [0, b""]
        sel.register(s, selectors.EVENT_READ)
        opened += 1
        pending += 1

    deadline = time.monotonic() + 600
    while len(done) < n:
        while opened < n and pending < batch:
            start_one()
        if time.monotonic() > deadline:
            raise SystemExit(f"only {len(done)} of {n} idle sessions opened")
        for key, _ in sel.select(timeout=5):
            s = key.fileobj
            st = state[s]
            try:
                data = s.recv(4096)
            except (BlockingIOError, InterruptedError):
                continue
            if not data:
                raise SystemExit(f"server closed an idle session during set-up ({len(done)} open): {st[1][-200:]!r}")
            st[1] += data
            if st[0] == 0 and st[1].endswith(b"\r\n"):
                if not st[1].startswith(b"220"):
                    raise SystemExit(f"refused after {len(done)} idle sessions: {st[1]!r}")
                st[0], st[1] = 1, b""
                s.sendall(b"EHLO idle.test\r\n")
            elif st[0] == 1 and b"\r\n250 " in b"\r\n" + st[1] and st[1].endswith(b"\r\n"):
                sel.unregister(s)
                del state[s]
                done.append(s)
                pending -= 1
    sel.close()
    return done


def close_all(sockets):
    for s in sockets:
        s.close()


def smtp_source_rate(port, messages):
    t0 = time.perf_counter()
    subprocess.run(["smtp-source", "-s", "20", "-m", str(messages), "-l", "1024", "-d", "-f", "s@client.test",
                    "-t", "r@local.test", f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL)
    return messages / (time.perf_counter() - t0)


def wait_settled(server, seconds=2.0):
    time.sleep(seconds)


def kb(v):
    return f"{v / 1024:.1f} MB"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.environ.get("ABILISFAST_BIN", os.path.join(ROOT, "publish", "abilisfast")))
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sessions", type=int, default=10000)
    ap.add_argument("--rate-messages", type=int, default=20000)
    ap.add_argument("--postfix", type=int, default=300)
    ap.add_argument("--skip", default="")
    ap.add_argument("--runner", default="")
    ap.add_argument("--extra", action="append", default=[], help="an extra NAME:VALUE for every server started")
    a = ap.parse_args()
    skip = set(x for x in a.skip.split(",") if x)
    runner = a.runner.split() if a.runner else []
    if runner:
        skip |= {"postfix"}
    binary = os.path.abspath(a.bin)
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"no executable at {binary} (--bin, or ABILISFAST_BIN)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.sessions + 1000:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.sessions * 2 + 1000), hard))
    results = []

    def put(name, value, text=None):
        results.append((name, value, text or str(value)))
        print(f"{name}\t{value}", flush=True)

    put("binary_bytes", os.path.getsize(binary), f"{os.path.getsize(binary) / 1e6:.2f} MB ({os.path.getsize(binary):,} bytes)")
    common = ["DT:3600", *a.extra]

    if "start" not in skip or "idle" not in skip:
        log(f"start-up and idle RSS, {a.reps} starts (SES-TOT:10)")
        starts, idle, idle_pss = [], [], []
        first = Server(binary, runner, "start", *common)  # creates WDIR (not counted)
        first.stop()
        for _ in range(a.reps):
            srv = Server(binary, runner, "start", *common)
            starts.append(srv.first_connect_ms)
            time.sleep(1)
            idle.append(srv.rss())
            idle_pss.append(srv.pss())
            srv.stop()
        put("start_to_first_accept_ms", round(statistics.median(starts), 1),
            f"{statistics.median(starts):.1f} ms (median of {a.reps}: {', '.join(f'{x:.1f}' for x in starts)})")
        put("idle_rss_kb", statistics.median(idle), f"{kb(statistics.median(idle))} (median of {a.reps}; {min(idle)}-{max(idle)} KiB); PSS {kb(statistics.median(idle_pss))}")

    if "slots" not in skip:
        for tot in (10, 10000, 65535):
            log(f"idle RSS at SES-TOT:{tot}")
            rss = []
            Server(binary, runner, f"slots{tot}", f"SES-TOT:{tot}", *common).stop()  # creates WDIR and its certificate (not counted)
            for _ in range(max(1, a.reps // 2)):
                srv = Server(binary, runner, f"slots{tot}", f"SES-TOT:{tot}", *common)
                time.sleep(1)
                rss.append(srv.rss())
                srv.stop()
            put(f"idle_rss_kb_ses_tot_{tot}", statistics.median(rss), f"{kb(statistics.median(rss))} ({', '.join(str(x) for x in rss)} KiB)")
        r = {n: v for n, v, _ in results}
        put("slot_bytes", round((r["idle_rss_kb_ses_tot_10000"] - r["idle_rss_kb_ses_tot_10"]) * 1024 / 9990),
            f"{(r['idle_rss_kb_ses_tot_10000'] - r['idle_rss_kb_ses_tot_10']) * 1024 / 9990:.0f} bytes of RSS per configured slot (10 -> 10000)")

    if "sessions" not in skip:
        n = a.sessions
        log(f"{n} idle sessions (EHLO, then nothing), SES-TOT:{n + 100}, SINK:YES")
        session_params = (f"SES-TOT:{n + 100}", f"MAX-IP-SES:{min(65535, n + 100)}", "SINK:YES", *common)
        Server(binary, runner, "sessions", *session_params).stop()  # creates WDIR and its certificate (not counted)
        srv = Server(binary, runner, "sessions", *session_params)
        do_rate = not runner and shutil.which("smtp-source") and "rate" not in skip
        if do_rate:
            smtp_source_rate(srv.port, a.rate_messages // 4)  # warm-up
        time.sleep(1)
        before, before_pss = srv.rss(), srv.pss()
        t = time.perf_counter()
        idle = open_idle(srv.port, n)
        open_s = time.perf_counter() - t
        wait_settled(srv)
        after, after_pss = srv.rss(), srv.pss()
        put("sessions_rss_before_kb", before, kb(before))
        put("sessions_rss_after_kb", after, f"{kb(after)} with {n} idle sessions (opened in {open_s:.1f} s); PSS {kb(after_pss)}")
        put("idle_session_bytes", round((after - before) * 1024 / n),
            f"{(after - before) * 1024 / n:.0f} bytes of RSS per idle session ({(after_pss - before_pss) * 1024 / n:.0f} PSS)")
        if "slots" not in skip:
            r = {k: v for k, v, _ in results}
            whole = (after - r["idle_rss_kb_ses_tot_10"]) * 1024 / n
            put("idle_session_with_slot_bytes", round(whole),
                f"{whole:.0f} bytes per idle session, its slot included ((RSS with {n} - idle RSS at SES-TOT:10) / {n})")
        if do_rate:
            log("smtp-source -s 20 rate with and without the idle sessions, alternating")
            with_idle, without = [], []
            for rep in range(a.reps):
                with_idle.append(smtp_source_rate(srv.port, a.rate_messages))
                close_all(idle)
                time.sleep(2)
                without.append(smtp_source_rate(srv.port, a.rate_messages))
                if rep + 1 < a.reps:
                    idle = open_idle(srv.port, n)
                    time.sleep(1)
                else:
                    idle = []
            mw, mo = statistics.median(with_idle), statistics.median(without)
            put("rate_with_idle", round(mw), f"{mw:,.0f} msgs/s beside {n} idle sessions (runs {', '.join(f'{x:,.0f}' for x in with_idle)})")
            put("rate_without_idle", round(mo), f"{mo:,.0f} msgs/s alone (runs {', '.join(f'{x:,.0f}' for x in without)})")
            put("rate_ratio", round(mw / mo, 3), f"{mw / mo:.2f}x of the unloaded rate")
            pairs = [w / o for w, o in zip(with_idle, without)]
            put("rate_ratio_pairs", round(statistics.median(pairs), 3),
                f"{statistics.median(pairs):.2f}x median of the runs paired in time ({', '.join(f'{x:.2f}' for x in pairs)})")
        close_all(idle)
        srv.stop()

    if "postfix" not in skip and a.postfix > 0:
        measure_postfix(a.postfix, put)

    print()
    print("Footprint (tools/footprint.py)")
    for name, _, text in results:
        print(f"  {name:32} {text}")


def measure_postfix(n, put):
    if os.geteuid() != 0:
        log("postfix: needs root (postfix -c), skipped")
        return
    log(f"postfix: private instance, {n} idle smtpd sessions")
    base = os.path.join(work, "postfix")
    conf, queue, data = os.path.join(base, "conf"), os.path.join(base, "queue"), os.path.join(base, "data")
    for d in (conf, queue, data):
        os.makedirs(d)
    os.chmod(base, 0o755)
    shutil.chown(data, "postfix")
    port = free_port()
    with open(os.path.join(conf, "main.cf"), "w") as f:
        f.write(f"""compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
myhostname = postfix.footprint.test
mydestination =
relay_domains =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_peername_lookup = no
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
smtpd_timeout = 3600s
default_process_limit = {n + 20}
alias_maps =
alias_database =
biff = no
smtpd_tls_security_level = none
maillog_file_prefixes = /var, /dev/stdout, {work}
maillog_file = {base}/maillog
""")
    with open(os.path.join(conf, "master.cf"), "w") as f:
        f.write(f"""127.0.0.1:{port} inet n - n - {n + 10} smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
""")
    subprocess.run(["postfix", "-c", conf, "start"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    postfix_confs.append(conf)
    pidfile = os.path.join(queue, "pid", "master.pid")
    for _ in range(200):
        if os.path.exists(pidfile) and open(pidfile).read().strip():
            break
        time.sleep(0.05)
    master = int(open(pidfile).read().strip())
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    time.sleep(1)
    idle = open_idle(port, n, batch=20)
    time.sleep(2)
    smtpd = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{p}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if int(fields[1]) == master and comm == "smtpd":
            smtpd.append(int(p))
    rss = [status_kb(p, "VmRSS") for p in smtpd]
    pss = [pss_kb(p) for p in smtpd]
    close_all(idle)
    put("postfix_smtpd_processes", len(smtpd))
    put("postfix_smtpd_rss_kb", statistics.median(rss),
        f"{statistics.median(rss):,.0f} KiB RSS per smtpd (median of {len(smtpd)}; {sum(rss) / 1024:.1f} MB in all)")
    put("postfix_smtpd_pss_kb", round(statistics.median(pss)),
        f"{statistics.median(pss):,.0f} KiB PSS per smtpd (median of {len(smtpd)}; {sum(pss) / 1024:.1f} MB in all)")
    stop_postfix(conf)


def stop_postfix(conf):
    subprocess.run(["postfix", "-c", conf, "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if conf in postfix_confs:
        postfix_confs.remove(conf)


def cleanup():
    for p in list(started):
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
    for conf in list(postfix_confs):
        stop_postfix(conf)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        main()
    finally:
        cleanup()
