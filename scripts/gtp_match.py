#!/usr/bin/env python3
"""A match between two GTP engines on Hex: the referee keeps the board and the rules.

Engines with a checkpoint and no noise are deterministic, so every game starts from a random
opening (`--opening` uniformly random moves, drawn from `--seed`) that is played twice, once
with each engine moving first: pairs of games cancel the first player's advantage.

    python3 scripts/gtp_match.py --games 40 \\
      --a "target/release/ponder gtp --game hex --size 5 --checkpoint results/exit-hex/tpt/checkpoints/latest --budget 64" \\
      --b "target/release/ponder gtp --game hex --size 5 --checkpoint results/exit-hex/pg/checkpoints/latest --budget 64"

Prints A's wins, losses and score, with a Wilson 95% interval. Needs only Python 3.
"""

import argparse
import math
import random
import shlex
import subprocess
import sys


class Engine:
    def __init__(self, command):
        self.command = command
        self.proc = subprocess.Popen(shlex.split(command), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            out = self.proc.stdout.readline()
            if out == "":
                raise RuntimeError(f"engine {self.command!r} exited during {line!r}")
            if out.strip() == "" and lines:
                break
            if out.strip():
                lines.append(out.strip())
        reply = " ".join(lines)
        if not reply.startswith("="):
            raise RuntimeError(f"engine {self.command!r}: {line!r} -> {reply!r}")
        return reply[1:].strip()

    def close(self):
        try:
            self.send("quit")
        except RuntimeError:
            pass
        self.proc.wait(timeout=10)


def winner(board, n):
    """0 if the first player ('b', rows 1 to N) has joined them, 1 for 'w' (columns a to last)."""
    for player in (0, 1):
        starts = [(0, c) for c in range(n)] if player == 0 else [(r, 0) for r in range(n)]
        seen = set(p for p in starts if board.get(p) == player)
        stack = list(seen)
        while stack:
            r, c = stack.pop()
            if (player == 0 and r == n - 1) or (player == 1 and c == n - 1):
                return player
            for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, 1), (1, -1)):
                q = (r + dr, c + dc)
                if 0 <= q[0] < n and 0 <= q[1] < n and board.get(q) == player and q not in seen:
                    seen.add(q)
                    stack.append(q)
    return None


def vertex(r, c):
    return f"{chr(ord('a') + c)}{r + 1}"


def cell(v):
    return int(v[1:]) - 1, ord(v[0].lower()) - ord("a")


def play_game(first, second, opening, n):
    """Plays one game; returns 0 if `first` won, 1 if `second` did."""
    engines = (first, second)
    for e in engines:
        e.send("clear_board")
    board = {}
    colours = ("b", "w")
    for i, (r, c) in enumerate(opening):
        for e in engines:
            e.send(f"play {colours[i % 2]} {vertex(r, c)}")
        board[(r, c)] = i % 2
    to_move = len(opening) % 2
    while True:
        w = winner(board, n)
        if w is not None:
            return w
        v = engines[to_move].send(f"genmove {colours[to_move]}")
        r, c = cell(v)
        if (r, c) in board or not (0 <= r < n and 0 <= c < n):
            raise RuntimeError(f"illegal move {v} from {engines[to_move].command!r}")
        board[(r, c)] = to_move
        engines[1 - to_move].send(f"play {colours[to_move]} {v}")
        to_move = 1 - to_move


def wilson(k, n, z=1.96):
    if n == 0:
        return (0.0, 1.0)
    p = k / n
    d = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / d
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return (centre - half, centre + half)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--a", required=True, help="engine A's command line")
    ap.add_argument("--b", required=True, help="engine B's command line")
    ap.add_argument("--size", type=int, default=5)
    ap.add_argument("--games", type=int, default=40, help="games (an even number: pairs)")
    ap.add_argument("--opening", type=int, default=2, help="random moves before the engines play")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    a, b = Engine(args.a), Engine(args.b)
    for e in (a, b):
        e.send(f"boardsize {args.size}")
    wins = 0
    games = 0
    cells = [(r, c) for r in range(args.size) for c in range(args.size)]
    for _ in range(args.games // 2):
        opening = rng.sample(cells, args.opening)
        wins += 1 - play_game(a, b, opening, args.size)  # A first
        wins += play_game(b, a, opening, args.size)  # B first
        games += 2
    a.close()
    b.close()
    lo, hi = wilson(wins, games)
    print(f"A: {args.a}\nB: {args.b}")
    print(f"A wins {wins} of {games} (score {wins / games:.3f}, 95% interval [{lo:.3f}, {hi:.3f}])")


if __name__ == "__main__":
    sys.exit(main())
