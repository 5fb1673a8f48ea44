#!/usr/bin/env python3
"""A markdown table of one metrics.csv column at chosen iterations, one row per run folder.

    python3 scripts/sweep_table.py results/gumbel-tictactoe s1_optimal_move_rate 4,8,16,24
"""
import csv
import os
import sys


def main():
    root, column, iters = sys.argv[1], sys.argv[2], [int(i) for i in sys.argv[3].split(",")]
    runs = sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "metrics.csv")))
    print(f"| run | " + " | ".join(f"{column} @ {i}" for i in iters) + " | wall s |")
    print("| --- | " + " | ".join("---:" for _ in iters) + " | ---: |")
    for run in runs:
        with open(os.path.join(root, run, "metrics.csv")) as f:
            rows = {int(r["iteration"]): r for r in csv.DictReader(f)}
        cells = [rows[i].get(column, "") if i in rows else "" for i in iters]
        wall = rows[max(rows)]["wall_seconds"] if rows else ""
        print(f"| {run} | " + " | ".join(cells) + f" | {float(wall):.0f} |")


if __name__ == "__main__":
    main()
