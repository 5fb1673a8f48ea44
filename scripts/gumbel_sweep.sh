#!/usr/bin/env bash
# Gumbel AlphaZero against PUCT at 2, 4, 8 and 16 self-play simulations per move on tic-tac-toe
# (experiments/gumbel-tictactoe.toml), then a table of the policy's optimal-move rate (System 1,
# all 4,520 positions) by iteration. Writes results/gumbel-tictactoe/<arm>/ and summary.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=./target/release/ponder
out=results/gumbel-tictactoe
puct='{ kind = "puct", c_puct = 1.25, fpu = { kind = "parent_minus", reduction = 0.0 }, root_noise = { kind = "dirichlet", alpha = 0.3, weight = 0.25 } }'
for sims in 2 4 8 16; do
  "$bin" run experiments/gumbel-tictactoe.toml --quiet --out "$out/gumbel-$sims" \
    --set "selfplay.search.simulations=$sims"
  "$bin" run experiments/gumbel-tictactoe.toml --quiet --out "$out/puct-$sims" \
    --set "selfplay.search.simulations=$sims" --set "selfplay.search.algorithm=$puct"
done
python3 scripts/sweep_table.py "$out" s1_optimal_move_rate 4,8,16,24 > "$out/summary.md"
cat "$out/summary.md"
