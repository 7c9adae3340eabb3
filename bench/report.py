"""bench/compare's results as text (the table printed at the end) and as Markdown (summary.md, the
tables of docs/performance.md), with every target and its measured status. Run on its own:
python3 bench/report.py results.json prints the text again."""
import json
import sys

SINK_PEERS = ["smtp-sink", "SmtpServer", "aiosmtpd"]
DURABLE_PEERS = ["postfix", "exim", "opensmtpd"]
SHAPES = ["keep-open", "per-conn", "load-tool"]
LABEL = {"keep-open": "kept open", "per-conn": "new connection per message", "load-tool": "load tool, pipelined"}


def rng(e, d=0, scale=1.0):
    return f"{e['median'] * scale:,.{d}f} ({e['min'] * scale:,.{d}f}–{e['max'] * scale:,.{d}f})"


def targets(r):
    """[(target, measured, status)]: status PASS, MISS or INFO (measured only)."""
    out = []
    for mode, peers, want in (("sink", SINK_PEERS, 1.0), ("durable", DURABLE_PEERS, 10.0)):
        m = r.get(mode)
        if not m:
            continue
        for peer in peers:
            if peer not in m:
                continue
            for shape in SHAPES:
                e = m[peer][shape]
                sp = e["ratio_spread"]
                out.append((f"{mode} {shape}: msgs/s >= {want:g}x {peer}",
                            f"{e['ratio']:.2f}x (per-run {sp['min']:.2f}–{sp['max']:.2f})",
                            "PASS" if e["ratio"] >= want else "MISS"))
                if mode == "sink":
                    cs = e["cpu_ratio_spread"]
                    out.append((f"sink {shape}: CPU/msg <= 1.0x {peer}",
                                f"{e['cpu_ratio']:.2f}x (per-run {cs['min']:.2f}–{cs['max']:.2f})",
                                "PASS" if e["cpu_ratio"] <= 1.0 else "MISS"))
    lat = r.get("latency")
    if lat:
        for frac, limit in (("50%", 2.0), ("90%", 10.0)):
            ours = lat["servers"].get("abilisfast", {}).get(frac)
            if not ours:
                continue
            sp = ours["spread"]["p99"]
            out.append((f"durable p99 <= {limit:g} ms at {frac} of the maximum ({ours['offered_per_s']:,}/s offered)",
                        f"{ours['p99']:.2f} ms (runs {sp['min']:.2f}–{sp['max']:.2f}; end of DATA to 250: {ours['accept']['p99']:.2f} ms)",
                        "PASS" if ours["p99"] <= limit else "MISS"))
            for peer in DURABLE_PEERS:
                e = lat["servers"].get(peer, {}).get(frac)
                if e:
                    out.append((f"  {peer} at the same rate",
                                f"p99 {fmt_ms(e['p99'])}, achieved {e['achieved_per_s']['median']:,.0f}/s, "
                                f"unsent {e['unsent']['median']:,.0f}", "INFO"))
    big = r.get("large")
    if big:
        for k, v in big["sizes"].items():
            out.append((f"{k} messages: accept >= 80% of the disk's write+fdatasync bandwidth",
                        f"{v['ratio_to_disk'] * 100:.0f}% ({v['mb_s']['median']:,.0f} of {big['disk_mb_s']['median']:,.0f} MB/s)",
                        "PASS" if v["ratio_to_disk"] >= 0.8 else "MISS"))
            if v.get("fsync_per_message_mb_s"):
                out.append((f"  {k}: of the same writes with an fdatasync per message (4 writers, no server)",
                            f"{v['ratio_to_fsync_per_message'] * 100:.0f}% (reference {v['fsync_per_message_mb_s']['median']:,.0f} MB/s)",
                            "INFO"))
        a, b = big["sizes"].get("1MB"), big["sizes"].get("10MB")
        if a and b:
            ra, rb = a["peak_rss_mb"]["median"], b["peak_rss_mb"]["median"]
            out.append(("flat memory: peak RSS at 10 MB <= 1.1x peak RSS at 1 MB",
                        f"{ra:.1f} MB at 1 MB, {rb:.1f} MB at 10 MB ({rb / ra:.2f}x)",
                        "PASS" if rb <= 1.1 * ra else "MISS"))
    fp = r.get("footprint")
    if fp:
        out.append(("binary size", f"{fp['binary_bytes'] / 1e6:.1f} MB", "INFO"))
        out.append(("idle RSS (1 s after start)", f"{fp['idle_rss_kb'] / 1024:.1f} MB", "INFO"))
        out.append(("exec to first accepted connection", f"{fp['connect_ms']:.1f} ms (first start, new WDIR: {fp['first_start_connect_ms']:.1f} ms)", "INFO"))
        i = fp.get("idle_sessions")
        if i:
            out.append((f"RSS per idle session ({i['sessions']:,} after EHLO)", f"{i['per_session_bytes'] / 1024:.1f} KiB", "INFO"))
        p = fp.get("postfix_idle_sessions")
        if p:
            out.append((f"  postfix: per idle session (one smtpd each, {p['smtpd_processes']} measured)",
                        f"PSS {p['pss_per_session_bytes'] / 1024:,.0f} KiB, RSS {p['rss_per_session_bytes'] / 1024:,.0f} KiB", "INFO"))
    return out


def fmt_ms(v):
    return f"{v / 1000:.2f} s" if v >= 1000 else f"{v:.2f} ms"


def summarise(r):
    """(text for the terminal, Markdown for summary.md)."""
    t, md = [], []
    head = f"bench/compare {r['date']}{' (--quick)' if r['quick'] else ''}: {r['machine']['cpus']} CPUs, {r['machine']['cpu']}, Linux {r['machine']['kernel']}; " \
           f"median of {r['reps']} alternating runs (min–max); servers on CPU 0, clients on CPU 1; load average {r['machine'].get('loadavg_at_start', '?')} at the start"
    t.append(head)
    md.append(f"Measured {r['date']}{' (--quick)' if r['quick'] else ''}, {r['machine']['cpus']} CPUs ({r['machine']['cpu']}), Linux {r['machine']['kernel']}, "
              f"load average {r['machine'].get('loadavg_at_start', '?')} at the start; {r.get('elapsed_s', '?')} s in all. "
              f"Peers: " + ", ".join(f"{k} {v}" for k, v in r["versions"].items()) + ".")
    md.append("")
    for mode in ("sink", "durable"):
        m = r.get(mode)
        if not m:
            continue
        t.append("")
        t.append(f"{mode:<8} {'shape':<10} {'server':<11} {'msgs/s (min-max)':<28} {'CPU us/msg (min-max)':<24} {'ours/peer':>9} {'CPU ours/peer':>13} {'ctxsw/msg':>9}")
        md.append(f"**{mode.capitalize()} mode** (msgs/s and server CPU per message; ratio = AbilisFast / peer, so above 1 is faster and below 1 is less CPU):")
        md.append("")
        md.append("| shape | server | msgs/s (min–max) | CPU µs/msg (min–max) | msgs/s ratio | CPU ratio | context switches/msg |")
        md.append("|---|---|---:|---:|---:|---:|---:|")
        for shape in SHAPES:
            for name, e in m.items():
                e = e[shape]
                ratio = f"{e['ratio']:.2f}x" if "ratio" in e else "-"
                cr = f"{e['cpu_ratio']:.2f}x" if "cpu_ratio" in e else "-"
                cs = f"{e['ctx_switches_per_msg']['median']:.2f}" if "ctx_switches_per_msg" in e else "-"
                t.append(f"{mode:<8} {shape:<10} {name:<11} {rng(e['msgs_s']):<28} {rng(e['cpu_us_per_msg'], 1):<24} {ratio:>9} {cr:>13} {cs:>9}")
                md.append(f"| {LABEL[shape]} | {name} | {rng(e['msgs_s'])} | {rng(e['cpu_us_per_msg'], 1)} | {ratio} | {cr} | {cs} |")
        md.append("")
    lat = r.get("latency")
    if lat:
        t.append("")
        t.append(f"latency, open loop (from each message's scheduled start to its 250), abilisfast's durable maximum {lat['max_rate']:,.0f} msgs/s:")
        md.append(f"**Latency** (durable, open loop at a fixed offered rate, 20 sessions, 1 KiB; from each message's scheduled start to its 250, "
                  f"so waiting for a free session counts; \"end of DATA\" is the final dot to the 250). AbilisFast's durable maximum with the "
                  f"same client, closed loop: {lat['max_rate']:,.0f} msgs/s.")
        md.append("")
        md.append("| offered | server | achieved msgs/s | p50 | p90 | p99 (min–max) | p99.9 | end of DATA p99 | unsent |")
        md.append("|---|---|---:|---:|---:|---:|---:|---:|---:|")
        for frac in ("50%", "90%"):
            for name, e in lat["servers"].items():
                e = e.get(frac)
                if not e:
                    continue
                sp = e["spread"]["p99"]
                t.append(f"  {frac} {e['offered_per_s']:>7,}/s {name:<11} achieved {e['achieved_per_s']['median']:>8,.0f}/s  p50 {fmt_ms(e['p50'])}  p90 {fmt_ms(e['p90'])}  "
                         f"p99 {fmt_ms(e['p99'])} ({fmt_ms(sp['min'])}–{fmt_ms(sp['max'])})  p99.9 {fmt_ms(e['p999'])}  end-of-DATA p99 {fmt_ms(e['accept']['p99'])}  unsent {e['unsent']['median']:,.0f}")
                md.append(f"| {frac} ({e['offered_per_s']:,}/s) | {name} | {e['achieved_per_s']['median']:,.0f} | {fmt_ms(e['p50'])} | {fmt_ms(e['p90'])} | "
                          f"{fmt_ms(e['p99'])} ({fmt_ms(sp['min'])}–{fmt_ms(sp['max'])}) | {fmt_ms(e['p999'])} | {fmt_ms(e['accept']['p99'])} | {e['unsent']['median']:,.0f} |")
        md.append("")
    big = r.get("large")
    if big:
        t.append("")
        t.append(f"large messages (durable, load tool, 4 sessions): disk write+fdatasync {rng(big['disk_mb_s'])} MB/s")
        md.append(f"**Large messages** (durable, load tool with 4 sessions; the disk's own bandwidth is `dd bs=1M conv=fdatasync` into the same folder, "
                  f"run before each measured run): disk {rng(big['disk_mb_s'])} MB/s.")
        md.append("")
        md.append("The second reference does without a server the durable work a server must do per message: 4 writers, "
                  "each writing its bodies in 1 MiB `os.write` calls and calling `fdatasync` after each body, run after each measured run.")
        md.append("")
        md.append("| size | messages per run | MB/s (min–max) | of the disk | write+fdatasync per message MB/s | of that | peak RSS MB (min–max) |")
        md.append("|---|---:|---:|---:|---:|---:|---:|")
        for k, v in big["sizes"].items():
            ref = v.get("fsync_per_message_mb_s")
            ref_t = f"; {v['ratio_to_fsync_per_message'] * 100:.0f}% of write+fdatasync per message ({rng(ref)} MB/s)" if ref else ""
            cpu_t = f"; server CPU {rng(v['cpu_ms_per_mb'], 2)} ms per MB" if "cpu_ms_per_mb" in v else ""
            t.append(f"  {k:<5} {rng(v['mb_s'])} MB/s = {v['ratio_to_disk'] * 100:.0f}% of the disk{ref_t}; peak RSS {rng(v['peak_rss_mb'], 1)} MB{cpu_t}")
            md.append(f"| {k} | {v['messages_per_run']} | {rng(v['mb_s'])} | {v['ratio_to_disk'] * 100:.0f}% | "
                      f"{rng(ref) if ref else '–'} | {(str(round(v['ratio_to_fsync_per_message'] * 100)) + '%') if ref else '–'} | {rng(v['peak_rss_mb'], 1)} |")
        md.append("")
        for k, v in big["sizes"].items():
            if "abilisfast_sink_mb_s" in v:
                sink_cpu = (f" ({rng(v['abilisfast_sink_cpu_ms_per_mb'], 2)} ms CPU per MB; durable {rng(v['cpu_ms_per_mb'], 2)})"
                            if "abilisfast_sink_cpu_ms_per_mb" in v and "cpu_ms_per_mb" in v else "")
                t.append(f"  {k} same client into servers that keep nothing: abilisfast SINK:YES {rng(v['abilisfast_sink_mb_s'])} MB/s{sink_cpu}, "
                         f"smtp-sink {rng(v['smtp-sink_sink_mb_s'])} MB/s")
                md.append(f"{k}, the same client into servers that keep nothing: abilisfast `SINK:YES` {rng(v['abilisfast_sink_mb_s'])} MB/s{sink_cpu}, "
                          f"smtp-sink {rng(v['smtp-sink_sink_mb_s'])} MB/s.")
                md.append("")
            if "syscalls" in v:
                top = ", ".join(f"{a} {b:g}" for a, b in v["syscalls"]["top"].items())
                t.append(f"  {k} system calls per message (strace -c -f): {v['syscalls']['per_msg']:,.0f}: {top}")
                md.append(f"System calls per {k} message (`strace -c -f`, one more run): {v['syscalls']['per_msg']:,.0f}: {top}.")
                md.append("")
    sy = (r.get("latency") or {}).get("abilisfast_syncs")
    if sy:
        line = (f"abilisfast's syncs during an open-loop run at {sy['offered_per_s']:,}/s (strace -f -T): {sy['syncs']:,} for {sy['messages']:,} messages "
                f"({sy['messages_per_sync']:.1f} per sync); each took p50 {sy['sync_ms_p50']:.2f} ms, p90 {sy['sync_ms_p90']:.2f} ms, "
                f"p99 {sy['sync_ms_p99']:.2f} ms, max {sy['sync_ms_max']:.2f} ms")
        t.append("")
        t.append(line)
        md.append(line[0].upper() + line[1:] + ".")
        md.append("")
    fs = r.get("fsync_before_250")
    if fs:
        t.append("")
        t.append("what each durable server syncs (and renames) between the end of DATA and its 250 (strace -f -y, one message):")
        md.append("**What each durable server makes durable before its 250** (`strace -f -y` during one message, calls between the 354 and the 250; paths under the run's folder):")
        md.append("")
        md.append("| server | calls |")
        md.append("|---|---|")
        for name, calls in fs.items():
            t.append(f"  {name:<11} {'; '.join(calls) or 'no fsync at all'}")
            md.append(f"| {name} | {'<br>'.join('`' + c + '`' for c in calls) or 'no fsync, no rename'} |")
        md.append("")
    sc = r.get("syscalls")
    if sc:
        t.append("")
        t.append("system calls per message (strace -c -f, 2,000 messages, all of the server's processes):")
        md.append("**System calls per message** (`strace -c -f` over 2,000 messages, every process of the server):")
        md.append("")
        md.append("| mode | shape | server | calls/msg | most frequent (per message) |")
        md.append("|---|---|---|---:|---|")
        for mode, servers in sc.items():
            for name, shapes in servers.items():
                for shape, e in shapes.items():
                    top = ", ".join(f"{k} {v:g}" for k, v in list(e["top"].items())[:6])
                    t.append(f"  {mode:<8} {shape:<10} {name:<11} {e['per_msg']:6.1f}  {top}")
                    md.append(f"| {mode} | {LABEL[shape]} | {name} | {e['per_msg']:.1f} | {top} |")
        md.append("")
    tg = targets(r)
    t.append("")
    t.append("Targets")
    w = max((len(x[0]) for x in tg), default=10)
    for name, val, st in tg:
        t.append(f"  {st:<4}  {name:<{w}}  {val}")
    md.append("**Targets** (PASS/MISS; INFO is measured only):")
    md.append("")
    md.append("| status | target | measured |")
    md.append("|---|---|---|")
    for name, val, st in tg:
        md.append(f"| {st} | {name.strip()} | {val} |")
    md.append("")
    if r.get("notes"):
        t.append("")
        t.append("Notes:")
        md.append("Notes from the run:")
        md.append("")
        for n in r["notes"]:
            t.append("  " + n)
            md.append("- " + n)
        md.append("")
    return "\n".join(t), "\n".join(md)


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        text, md = summarise(json.load(f))
    print(md if "--md" in sys.argv else text)
