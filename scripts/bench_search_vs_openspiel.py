#!/usr/bin/env python3
"""Search throughput: Ponder's MCTS against OpenSpiel's C++ MCTSBot, on the same machine, in one go.

Both run single-threaded UCT (c = 2) with one random rollout per leaf, 1,000 simulations per
search, from the same positions (empty board and a mid-game position) of tic-tac-toe, connect
four and Hex 5x5. Prints simulations per second for each and the ratio.

    pip install open_spiel          # OpenSpiel's wheels include the C++ MCTSBot (pyspiel)
    python3 scripts/bench_search_vs_openspiel.py

Ponder's side is the criterion benchmark `cargo bench --bench search` (this script runs it and
reads criterion's estimates from target/criterion). Skips OpenSpiel cleanly when it is absent.
"""

import json
import os
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIMS = 1000

# (criterion id, OpenSpiel game, moves of the position in OpenSpiel action ids)
# Cells: tic-tac-toe action = 3*row + col; connect four action = column; hex action = row*N + col.
POSITIONS = [
    ("tictactoe/empty", "tic_tac_toe", []),
    ("tictactoe/midgame", "tic_tac_toe", [4, 0, 8]),  # b2 a1 c3
    ("connect4/empty", "connect_four", []),
    ("connect4/midgame", "connect_four", [3, 2, 3, 3, 4, 2, 1, 5]),  # d c d d e c b f
    ("hex5/empty", "hex(board_size=5)", []),
    # c3 b3 c2 d2 b4 a4: (row, col) = (2,2) (2,1) (1,2) (1,3) (3,1) (3,0)
    ("hex5/midgame", "hex(board_size=5)", [12, 11, 7, 8, 16, 15]),
]


def ponder_rates(skip_build):
    if not skip_build:
        subprocess.run(["cargo", "bench", "--bench", "search", "--", "mcts_rollout"], cwd=ROOT, check=True)
    rates = {}
    for bench_id, _, _ in POSITIONS:
        path = os.path.join(ROOT, "target", "criterion", "mcts_rollout", *bench_id.split("/"), "new", "estimates.json")
        with open(path) as f:
            est = json.load(f)
        seconds = est["mean"]["point_estimate"] / 1e9
        rates[bench_id] = SIMS / seconds
    return rates


def openspiel_rates(repeats=20):
    try:
        import pyspiel
    except ImportError:
        print("OpenSpiel is not installed (pip install open_spiel): skipping its side")
        return None
    rates = {}
    for bench_id, game_name, moves in POSITIONS:
        game = pyspiel.load_game(game_name)
        state = game.new_initial_state()
        for m in moves:
            state.apply_action(m)
        evaluator = pyspiel.RandomRolloutEvaluator(1, 42)
        # MCTSBot(game, evaluator, uct_c, max_simulations, max_memory_mb, solve, seed, verbose)
        bot = pyspiel.MCTSBot(game, evaluator, 2.0, SIMS, 1000, False, 42, False)
        bot.step(state)  # warm up
        t0 = time.perf_counter()
        for _ in range(repeats):
            bot.step(state)
        rates[bench_id] = SIMS * repeats / (time.perf_counter() - t0)
    return rates


def main():
    skip_build = "--no-bench" in sys.argv
    ours = ponder_rates(skip_build)
    theirs = openspiel_rates()
    print(f"\n{'position':<20}{'Ponder sims/s':>16}{'OpenSpiel sims/s':>18}{'ratio':>8}")
    for bench_id, _, _ in POSITIONS:
        o = ours[bench_id]
        t = theirs[bench_id] if theirs else float("nan")
        print(f"{bench_id:<20}{o:>16,.0f}{t:>18,.0f}{o / t:>8.2f}")


if __name__ == "__main__":
    main()
