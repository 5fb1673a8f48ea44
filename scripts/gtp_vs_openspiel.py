#!/usr/bin/env python3
"""`ponder gtp` against a real peer: OpenSpiel's bots drive our engine over GTP.

OpenSpiel's `GTPBot` (open_spiel/python/bots/gtp.py) runs an external GTP engine; this script
subclasses it only to translate moves between OpenSpiel's action ids and our vertices
(tic-tac-toe `a1`..`c3` with action = 3*row + col; connect four's column letter with action =
column; Hex `c3` with action = row*N + col, first player joining top and bottom in both). It
then plays whole games of Ponder against OpenSpiel's uniform random bot, its C++ MCTSBot (UCT
with random rollouts) and, for tic-tac-toe, perfect alpha-beta play, alternating colours, and
prints Ponder's wins, draws and losses. (Alpha-beta is deterministic, and so is Ponder with a
checkpoint, no rollouts and no noise: those games repeat, one per colour.)

    pip install open_spiel
    cargo build --release
    python3 scripts/gtp_vs_openspiel.py --games 10
    python3 scripts/gtp_vs_openspiel.py --checkpoint results/quickstart/checkpoints/latest --budget 64

Without a checkpoint the engine plays rollout MCTS (`--budget` simulations, default 1000).
Exits cleanly, saying so, when OpenSpiel is not installed.
"""

import argparse
import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    import numpy as np
    import pyspiel
    from open_spiel.python.algorithms import minimax
    from open_spiel.python.bots import gtp
    from open_spiel.python.bots import uniform_random
except ImportError as e:  # pragma: no cover - depends on the machine
    print(f"skipped: OpenSpiel is not installed ({e}); pip install open_spiel")
    sys.exit(0)


# (our game, OpenSpiel game string, board side N for vertex <-> action, column-only vertices)
GAMES = {
    "tictactoe": ("tic_tac_toe", 3, False),
    "connect4": ("connect_four", 7, True),
    "hex": ("hex(board_size=5)", 5, False),
}


def vertex(action, side, column_only):
    """Our GTP vertex of an OpenSpiel action."""
    if column_only:
        return chr(ord("a") + action)
    row, col = divmod(action, side)
    return f"{chr(ord('a') + col)}{row + 1}"


def action_of(text, side, column_only):
    """The OpenSpiel action of one of our vertices."""
    text = text.strip().lower()
    col = ord(text[0]) - ord("a")
    if column_only:
        return col
    return (int(text[1:]) - 1) * side + col


class PonderBot(gtp.GTPBot):
    """OpenSpiel's GTPBot, speaking our vertices instead of OpenSpiel's action strings."""

    def __init__(self, game, command, side, column_only):
        super().__init__(game, command)
        self._side = side
        self._column_only = column_only
        self.seconds = 0.0
        self.moves = 0

    def inform_action(self, state, player_id, action):
        self.gtp_cmd("play", self._player_colors[player_id], vertex(action, self._side, self._column_only))

    def step(self, state):
        t0 = time.perf_counter()
        reply = self.gtp_cmd("genmove", self._player_colors[state.current_player()])
        self.seconds += time.perf_counter() - t0
        self.moves += 1
        action = action_of(reply, self._side, self._column_only)
        if action not in state.legal_actions():
            raise RuntimeError(f"ponder played an illegal move: {reply!r} in\n{state}")
        return action


class AlphaBetaBot(pyspiel.Bot):
    """Perfect play by full-depth alpha-beta (tic-tac-toe is small enough)."""

    def __init__(self, game):
        pyspiel.Bot.__init__(self)
        self._game = game

    def step(self, state):
        _, action = minimax.alpha_beta_search(self._game, state=state.clone(), maximizing_player_id=state.current_player())
        return action

    def restart(self):
        pass

    def inform_action(self, state, player_id, action):
        pass


def play(game, bots):
    """One game; returns the final returns, player 0 first."""
    state = game.new_initial_state()
    for b in bots:
        b.restart()
    while not state.is_terminal():
        p = state.current_player()
        action = bots[p].step(state)
        for i, b in enumerate(bots):
            if i != p:
                b.inform_action(state, p, action)
        state.apply_action(action)
    return state.returns()


def opponents(name, game, sims, seed):
    """OpenSpiel's bots to play against, by name: each makes a bot for (player, game number)."""
    rng = np.random.RandomState(seed)

    def mcts(player, g):
        # MCTSBot(game, evaluator, uct_c, max_simulations, max_memory_mb, solve, seed, verbose);
        # a new seed every game, so that the games differ.
        s = seed * 1000 + g
        return pyspiel.MCTSBot(game, pyspiel.RandomRolloutEvaluator(1, s), 2.0, sims, 1000, False, s, False)

    bots = [
        ("random", lambda player, g: uniform_random.UniformRandomBot(player, rng)),
        (f"mcts{sims}", mcts),
    ]
    if name == "tictactoe":
        bots.append(("alphabeta", lambda player, g: AlphaBetaBot(game)))
    return bots


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--games", type=int, default=10, help="games per opponent (half with each colour)")
    ap.add_argument("--budget", type=int, help="ponder's simulations per move (default: ponder gtp's)")
    ap.add_argument("--checkpoint", help="a checkpoint for ponder (default: rollout MCTS)")
    ap.add_argument("--opponent-sims", type=int, default=1000, help="OpenSpiel MCTSBot simulations")
    ap.add_argument("--game", action="append", choices=sorted(GAMES), help="games to play (default: tictactoe, connect4)")
    ap.add_argument("--ponder", default=os.path.join(ROOT, "target", "release", "ponder"), help="the ponder binary")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rollout-mix", type=float, help="ponder's --rollout-mix (AlphaGo's leaf value mix)")
    ap.add_argument("--rollouts", type=int, help="ponder's --rollouts (playouts per leaf)")
    ap.add_argument("--opponent", action="append", help="opponents to play, by label: random, mcts1000, alphabeta (default: all)")
    args = ap.parse_args()
    if not os.path.exists(args.ponder):
        sys.exit(f"{args.ponder} does not exist: run `cargo build --release` first")

    print(f"{'game':<10}{'opponent':<12}{'games':>6}{'W':>4}{'D':>4}{'L':>4}{'score':>7}{'ms/move':>9}  W/D/L by ponder's colour")
    for name in args.game or ["tictactoe", "connect4"]:
        spiel_name, side, column_only = GAMES[name]
        game = pyspiel.load_game(spiel_name)
        command = [args.ponder, "gtp", "--game", name, "--seed", str(args.seed)]
        if name == "hex":
            command += ["--size", str(side)]
        if args.budget is not None:
            command += ["--budget", str(args.budget)]
        if args.checkpoint:
            command += ["--checkpoint", args.checkpoint]
        if args.rollout_mix is not None:
            command += ["--rollout-mix", str(args.rollout_mix)]
        if args.rollouts is not None:
            command += ["--rollouts", str(args.rollouts)]
        for label, make in opponents(name, game, args.opponent_sims, args.seed):
            if args.opponent and label not in args.opponent:
                continue
            ponder = PonderBot(game, command, side, column_only)
            wins = draws = losses = 0
            by_colour = [[0, 0, 0], [0, 0, 0]]  # W, D, L with ponder first (b) and second (w)
            for g in range(args.games):
                me = g % 2  # ponder is the first player in even games
                bots = [None, None]
                bots[me] = ponder
                bots[1 - me] = make(1 - me, g)
                result = play(game, bots)[me]
                wins += result > 0
                draws += result == 0
                losses += result < 0
                by_colour[me][0 if result > 0 else 1 if result == 0 else 2] += 1
            ms = 1000 * ponder.seconds / max(ponder.moves, 1)
            ponder.close()
            score = (wins + 0.5 * draws) / args.games
            colours = "  ".join(f"as {c}: " + "/".join(map(str, by_colour[i])) for i, c in enumerate("bw"))
            print(f"{name:<10}{label:<12}{args.games:>6}{wins:>4}{draws:>4}{losses:>4}{score:>7.2f}{ms:>9.1f}  {colours}", flush=True)


if __name__ == "__main__":
    main()
