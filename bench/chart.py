"""bench/compare's charts, SVG written by hand (no plotting library):
  ratios.svg   AbilisFast's msgs/s and CPU per message against each peer, per shape: the ratio of
               the medians as a bar, the per-run ratios (alternating runs paired) as a whisker,
               the targets as dashed lines; log scale
  latency.svg  latency percentile curves (open loop, durable) of every server at 50 % and 90 % of
               AbilisFast's maximum rate, log-log, with the p99 targets
Run on its own: python3 bench/chart.py results.json OUTDIR."""
import html
import json
import math
import os
import sys

COLORS = {"abilisfast": "#d62728", "postfix": "#1f77b4", "exim": "#2ca02c", "opensmtpd": "#9467bd",
          "smtp-sink": "#1f77b4", "SmtpServer": "#ff7f0e", "aiosmtpd": "#8c564b"}
SHAPE_LABEL = {"keep-open": "kept open", "per-conn": "conn/msg", "load-tool": "pipelined"}
FONT = 'font-family="DejaVu Sans, Arial, sans-serif"'


def esc(s):
    return html.escape(str(s), quote=True)


class Svg:
    def __init__(self, w, h):
        self.w, self.h, self.parts = w, h, []

    def add(self, s):
        self.parts.append(s)

    def text(self, x, y, s, size=12, anchor="start", color="#222", weight="normal"):
        self.add(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{color}" font-weight="{weight}" {FONT}>{esc(s)}</text>')

    def line(self, x1, y1, x2, y2, color="#999", width=1, dash=None):
        d = f' stroke-dasharray="{dash}"' if dash else ""
        self.add(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{color}" stroke-width="{width}"{d}/>')

    def rect(self, x, y, w, h, color, opacity=1.0):
        self.add(f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{color}" fill-opacity="{opacity}"/>')

    def polyline(self, pts, color, width=2):
        p = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        self.add(f'<polyline points="{p}" fill="none" stroke="{color}" stroke-width="{width}"/>')

    def save(self, path):
        with open(path, "w") as f:
            f.write(f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.w}" height="{self.h}" viewBox="0 0 {self.w} {self.h}">\n')
            f.write(f'<rect width="{self.w}" height="{self.h}" fill="white"/>\n')
            f.write("\n".join(self.parts))
            f.write("\n</svg>\n")


def ratios(r, path):
    rows = []
    for mode, peers in (("sink", ["smtp-sink", "SmtpServer", "aiosmtpd"]), ("durable", ["postfix", "exim", "opensmtpd"])):
        m = r.get(mode) or {}
        for peer in peers:
            if peer not in m:
                continue
            for shape in ("keep-open", "per-conn", "load-tool"):
                rows.append((mode, peer, shape, m[peer][shape]))
    if not rows:
        return
    row_h, top, left = 20, 70, 230
    pw = 330                       # width of each panel
    gap = 40
    h = top + len(rows) * row_h + 60
    w = left + 2 * pw + gap + 110
    s = Svg(w, h)
    s.text(10, 22, f"AbilisFast against each peer: ratio of medians (bar) and per-run ratios (whisker), {r['date']}", 14, weight="bold")
    s.text(10, 40, f"{r['machine']['cpus']} CPUs, {r['machine']['cpu']}; median of {r['reps']} alternating runs; log scale", 11, color="#555")

    def panel(x0, title, lo, hi, key, spread_key, targets, better):
        def X(v):
            v = min(max(v, lo), hi)
            return x0 + (math.log10(v) - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * pw
        s.text(x0 + pw / 2, top - 12, title, 12, "middle", weight="bold")
        dec = 10 ** math.floor(math.log10(lo))
        while dec <= hi:
            for k in (1, 2, 5):
                v = dec * k
                if lo <= v <= hi:
                    s.line(X(v), top - 4, X(v), top + len(rows) * row_h, "#e5e5e5")
                    if k == 1 or (hi / lo) < 200:
                        s.text(X(v), top + len(rows) * row_h + 14, f"{v:g}x", 10, "middle", "#555")
            dec *= 10
        for t, label in targets:
            s.line(X(t), top - 4, X(t), top + len(rows) * row_h, "#333", 1.2, "5,3")
            s.text(X(t) + 3, top + len(rows) * row_h + 28, label, 10, "start", "#333")
        s.text(x0 + pw / 2, top + len(rows) * row_h + 44, better, 10, "middle", "#555")
        for i, (mode, peer, shape, e) in enumerate(rows):
            if key not in e:
                continue
            y = top + i * row_h
            v = e[key]
            s.rect(X(lo), y + 4, X(v) - X(lo), row_h - 8, COLORS.get(peer, "#777"), 0.75)
            sp = e.get(spread_key)
            if sp:
                s.line(X(sp["min"]), y + row_h / 2, X(sp["max"]), y + row_h / 2, "#222", 1.2)
                s.line(X(sp["min"]), y + 6, X(sp["min"]), y + row_h - 6, "#222", 1.2)
                s.line(X(sp["max"]), y + 6, X(sp["max"]), y + row_h - 6, "#222", 1.2)
            right = max(X(v), X(sp["max"]) if sp else 0)
            s.text(min(right + 4, X(hi) - 34), y + row_h - 6, f"{v:.2f}x", 10, "start", "#000")

    for i, (mode, peer, shape, e) in enumerate(rows):
        y = top + i * row_h
        if i and rows[i - 1][0] != mode:
            s.line(10, y, w - 10, y, "#bbb")
        s.text(left - 8, y + row_h - 6, f"{mode} · {peer} · {SHAPE_LABEL[shape]}", 11, "end")
    panel(left, "msgs/s: AbilisFast / peer", 0.3, 300, "ratio", "ratio_spread",
          [(1, "1x (sink target)"), (10, "10x (durable)")], "longer is faster")
    panel(left + pw + gap, "CPU per message: AbilisFast / peer", 0.01, 3, "cpu_ratio", "cpu_ratio_spread",
          [(1, "1x (sink target: at most)")], "shorter is less CPU")
    s.save(path)


def latency(r, path):
    lat = r.get("latency")
    if not lat:
        return
    fracs = [f for f in ("50%", "90%") if any(f in e for e in lat["servers"].values())]
    pw, ph, left, top = 360, 300, 70, 70
    w = left + len(fracs) * (pw + 60) + 10
    h = top + ph + 90
    s = Svg(w, h)
    s.text(10, 22, f"Accept latency, durable, open loop (scheduled start to 250), {r['date']}", 14, weight="bold")
    s.text(10, 40, f"Offered rates: 50 % and 90 % of AbilisFast's maximum ({lat['max_rate']:,.0f} msgs/s); the run with the median p99 of {r['reps']}; log-log", 11, color="#555")
    pts_x = [0, 50, 90, 99, 99.9, 99.99]

    def xv(p):
        p = min(p, 99.999)
        return math.log10(1 / (1 - p / 100))

    xmax = xv(99.99)
    vals = [v for e in lat["servers"].values() for f in fracs if f in e for _, v in e[f]["curve"]]
    ymin = 10 ** math.floor(math.log10(max(min([v for v in vals if v > 0] or [0.01]), 0.005)))
    ymax = 10 ** math.ceil(math.log10(max(vals or [1])))
    for k, frac in enumerate(fracs):
        x0 = left + k * (pw + 60)

        def X(p):
            return x0 + xv(p) / xmax * pw

        def Y(v):
            v = min(max(v, ymin), ymax)
            return top + ph - (math.log10(v) - math.log10(ymin)) / (math.log10(ymax) - math.log10(ymin)) * ph
        rate = next(e[frac]["offered_per_s"] for e in lat["servers"].values() if frac in e)
        s.text(x0 + pw / 2, top - 10, f"{frac} of the maximum: {rate:,} msgs/s offered", 12, "middle", weight="bold")
        d = ymin
        while d <= ymax * 1.001:
            s.line(x0, Y(d), x0 + pw, Y(d), "#e5e5e5")
            s.text(x0 - 5, Y(d) + 4, f"{d:g} ms" if d < 1000 else f"{d / 1000:g} s", 10, "end", "#555")
            d *= 10
        for p in pts_x:
            s.line(X(p), top, X(p), top + ph, "#e5e5e5")
            if p:
                s.text(X(p), top + ph + 14, f"p{p:g}", 10, "middle", "#555")
        target = 2.0 if frac == "50%" else 10.0
        if ymin <= target <= ymax:
            s.line(x0, Y(target), x0 + pw, Y(target), "#333", 1.2, "5,3")
            s.text(x0 + pw - 2, Y(target) - 4, f"target p99 <= {target:g} ms", 10, "end", "#333")
        s.line(x0, top + ph, x0 + pw, top + ph, "#555")
        s.line(x0, top, x0, top + ph, "#555")
        for name, e in lat["servers"].items():
            if frac not in e:
                continue
            pts = [(X(p), Y(v)) for p, v in e[frac]["curve"] if p < 100]
            s.polyline(pts, COLORS.get(name, "#777"), 2.5 if name == "abilisfast" else 1.8)
    lx = left
    for name in lat["servers"]:
        s.line(lx, h - 22, lx + 24, h - 22, COLORS.get(name, "#777"), 3)
        s.text(lx + 28, h - 18, name, 11)
        lx += 40 + 8 * len(name)
    s.text(left, h - 40, "x: percentile (log of 1/(1-p)); y: ms from the scheduled start to the 250, waiting for a free session included", 10, color="#555")
    s.save(path)


def write_all(r, out):
    ratios(r, os.path.join(out, "ratios.svg"))
    latency(r, os.path.join(out, "latency.svg"))


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        write_all(json.load(f), sys.argv[2])
