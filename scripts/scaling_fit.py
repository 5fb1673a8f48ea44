#!/usr/bin/env python3
"""Fits Jones (2021)'s train/test compute trade-off from scripts/scaling_hex.sh's output.

    python3 scripts/scaling_fit.py results/scaling-hex > results/scaling-hex/fit.md

For every agent (a network size and a training snapshot) it reads:
  - parameters N, from the snapshot's weights.safetensors header;
  - train compute, in FLOPs: 2 N per self-play forward position plus 6 N per trained token
    (forward and backward), summed over the iterations up to the snapshot (metrics.csv; trained
    tokens = train_examples x the mean game length in the run's last replay file);
  - test compute per move at each budget, 2 N x forward positions per decision (compare.csv);
  - Elo relative to perfect play at each budget (compare.csv).
Then, for each Elo level, the least test compute at which each agent reaches it (log-linear
interpolation between budgets), the frontier (agents that need less test compute than every
agent with less train compute), and a least-squares line log10(test) = a + b log10(train)
through the frontier: b is the slope of the trade-off. Jones reports b of about -1.2 on Hex
(each 10x of train compute buys about 15x less test compute). Standard library only.
"""
import csv
import glob
import json
import math
import os
import struct
import sys


def params(ckpt):
    with open(os.path.join(ckpt, "weights.safetensors"), "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
    return sum(math.prod(v["shape"]) for k, v in header.items() if k != "__metadata__")


def mean_game_tokens(run):
    files = sorted(glob.glob(os.path.join(run, "checkpoints", "replay-*.jsonl")))
    lens = []
    with open(files[-1]) as f:
        for i, line in enumerate(f):
            if i == 0:
                continue  # the header line
            lens.append(len(json.loads(line)["tokens"]))
    return sum(lens) / len(lens)


def agents(root):
    out = []
    for run in sorted(glob.glob(os.path.join(root, "*", "metrics.csv"))):
        run = os.path.dirname(run)
        with open(os.path.join(run, "metrics.csv")) as f:
            rows = list(csv.DictReader(f))
        tokens = mean_game_tokens(run)
        for comp in sorted(glob.glob(os.path.join(run, "elo-*", "compare.csv"))):
            it = int(os.path.basename(os.path.dirname(comp)).split("-")[1])
            n = params(os.path.join(run, "checkpoints", f"iter-{it:04d}"))
            upto = [r for r in rows if int(r["iteration"]) <= it]
            fwd = sum(float(r["selfplay_forward_positions"]) for r in upto)
            trained = sum(float(r["train_examples"]) for r in upto) * tokens
            train = 2 * n * fwd + 6 * n * trained
            with open(comp) as f:
                pts = [(2 * n * float(r["forward_positions"]), float(r["metric"]), int(r["budget"]))
                       for r in csv.DictReader(f)]
            pts.sort()
            out.append({"name": f"{os.path.basename(run)} @{it}", "params": n, "train": train, "points": pts})
    return out


def test_needed(points, elo):
    """Least test FLOPs at which the Elo curve reaches `elo` (log-linear between budgets)."""
    best = -math.inf
    prev = None
    for flops, e, _ in points:
        if e >= elo:
            if prev is None or prev[1] >= elo:
                return flops
            (f0, e0) = prev
            t = (elo - e0) / (e - e0)
            return 10 ** (math.log10(f0) + t * (math.log10(flops) - math.log10(f0)))
        if e > best:
            best = e
            prev = (flops, e)
    return None


def fit(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    b = sxy / sxx
    a = my - b * mx
    ss = sum((y - my) ** 2 for y in ys)
    r2 = 1 - sum((y - a - b * x) ** 2 for x, y in zip(xs, ys)) / ss if ss > 0 else 1.0
    return a, b, r2


def plane_within(rows):
    """Least squares z = a x + b y + c_g over (g, x, y, z) rows; returns a, b and R^2 within groups."""
    groups = {}
    for g, x, y, z in rows:
        groups.setdefault(g, []).append((x, y, z))
    dem = []
    for pts in groups.values():
        mx = sum(p[0] for p in pts) / len(pts)
        my = sum(p[1] for p in pts) / len(pts)
        mz = sum(p[2] for p in pts) / len(pts)
        dem += [(x - mx, y - my, z - mz) for x, y, z in pts]
    sxx = sum(x * x for x, _, _ in dem)
    syy = sum(y * y for _, y, _ in dem)
    sxy = sum(x * y for x, y, _ in dem)
    sxz = sum(x * z for x, _, z in dem)
    syz = sum(y * z for _, y, z in dem)
    det = sxx * syy - sxy * sxy
    a = (sxz * syy - syz * sxy) / det
    b = (syz * sxx - sxz * sxy) / det
    ss = sum(z * z for _, _, z in dem)
    res = sum((z - a * x - b * y) ** 2 for x, y, z in dem)
    return a, b, 1 - res / ss


def svg(ags, path):
    """Elo against log10(test FLOPs per move), one line per agent, one colour per size."""
    w, h, m = 720, 440, 60
    xs = [math.log10(f) for a in ags for f, _, _ in a["points"]]
    ys = [e for a in ags for _, e, _ in a["points"]]
    x0, x1, y0, y1 = math.floor(min(xs)), math.ceil(max(xs)), min(ys) - 20, 0
    px = lambda x: m + (x - x0) / (x1 - x0) * (w - 2 * m)
    py = lambda y: h - m - (y - y0) / (y1 - y0) * (h - 2 * m)
    sizes = sorted({a["name"].split(" @")[0] for a in ags})
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
           f'<rect width="{w}" height="{h}" fill="white"/>',
           f'<text x="{w / 2}" y="20" text-anchor="middle" font-size="14">Hex 4x4: Elo vs perfect play against test compute (one line per agent)</text>',
           f'<line x1="{m}" y1="{h - m}" x2="{w - m}" y2="{h - m}" stroke="black"/>',
           f'<line x1="{m}" y1="{m}" x2="{m}" y2="{h - m}" stroke="black"/>',
           f'<text x="{w / 2}" y="{h - 15}" text-anchor="middle">log10(test FLOPs per move)</text>',
           f'<text x="15" y="{h / 2}" transform="rotate(-90 15 {h / 2})" text-anchor="middle">Elo (perfect play = 0)</text>']
    for x in range(x0, x1 + 1):
        out.append(f'<text x="{px(x)}" y="{h - m + 15}" text-anchor="middle">{x}</text>')
    for y in range(int(y0 // 100 * 100 + 100), 1, 100):
        out.append(f'<text x="{m - 5}" y="{py(y) + 4}" text-anchor="end">{y}</text>')
        out.append(f'<line x1="{m}" y1="{py(y)}" x2="{w - m}" y2="{py(y)}" stroke="#ddd"/>')
    for a in ags:
        c = colours[sizes.index(a["name"].split(" @")[0]) % len(colours)]
        it = int(a["name"].split("@")[1])
        opacity = 0.35 + 0.65 * math.log2(it) / 5
        pts = " ".join(f"{px(math.log10(f)):.1f},{py(e):.1f}" for f, e, _ in a["points"])
        out.append(f'<polyline points="{pts}" fill="none" stroke="{c}" stroke-opacity="{min(opacity, 1):.2f}" stroke-width="1.5"/>')
    for i, name in enumerate(sizes):
        out.append(f'<text x="{w - m - 150}" y="{m + 15 * i + 10}" fill="{colours[i % len(colours)]}">{name} (darker = more training)</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    root = sys.argv[1]
    ags = agents(root)
    svg(ags, os.path.join(root, "elo.svg"))
    budgets = sorted({b for a in ags for _, _, b in a["points"]})
    print("# Hex 4x4: Elo relative to perfect play by agent and test-time budget\n")
    print("| agent | params | train FLOPs | " + " | ".join(f"{b} sims" for b in budgets) + " |")
    print("| --- | ---: | ---: | " + " | ".join("---:" for _ in budgets) + " |")
    for a in sorted(ags, key=lambda a: a["train"]):
        by = {b: e for _, e, b in a["points"]}
        cells = " | ".join(f"{by[b]:.0f}" if b in by else "" for b in budgets)
        print(f"| {a['name']} | {a['params']} | {a['train']:.2e} | {cells} |")
    print("\n# The trade-off at fixed Elo: log10(test FLOPs per move) = a + b log10(train FLOPs)\n")
    print("| Elo | agents reaching it | frontier points | slope b | R^2 |")
    print("| ---: | ---: | ---: | ---: | ---: |")
    slopes = []
    for elo in range(-250, -49, 25):
        reach = [(a["train"], test_needed(a["points"], elo)) for a in ags]
        reach = sorted((t, x) for t, x in reach if x is not None)
        frontier = []
        for t, x in reach:
            if not frontier or x < frontier[-1][1]:
                frontier.append((t, x))
        if len(frontier) < 3:
            print(f"| {elo} | {len(reach)} | {len(frontier)} | - | - |")
            continue
        a, b, r2 = fit([math.log10(t) for t, _ in frontier], [math.log10(x) for _, x in frontier])
        slopes.append(b)
        print(f"| {elo} | {len(reach)} | {len(frontier)} | {b:.2f} | {r2:.2f} |")
    # A plane per network size with a shared tilt: Elo = alpha log10(train) + beta log10(test)
    # + gamma_size (each size its own intercept, so that test FLOPs' dependence on the network's
    # size does not stand in for the budget's effect). Along a line of fixed Elo,
    # d log10(test) / d log10(train) = -alpha / beta.
    rows = [(a["name"].split(" @")[0], math.log10(a["train"]), math.log10(f), e) for a in ags for f, e, _ in a["points"]]
    alpha, beta, r2 = plane_within(rows)
    print(f"\nOne plane per size through all {len(rows)} points (shared slopes, R^2 within sizes {r2:.2f}):"
          f" Elo = {alpha:.1f} log10(train FLOPs) + {beta:.1f} log10(test FLOPs per move) + c(size);"
          f" at fixed Elo, d log10(test) / d log10(train) = {-alpha / beta:.2f}.")
    if slopes:
        print(f"\nMedian slope over the Elo levels with 3+ frontier points: {sorted(slopes)[len(slopes) // 2]:.2f}"
              f" ({len(slopes)} levels). Jones (2021), Hex: about -1.2.")


if __name__ == "__main__":
    main()
