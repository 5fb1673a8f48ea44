#!/usr/bin/env bash
# Expert Iteration on Hex 5x5 (experiments/exit-hex.toml): three arms on the same network and
# learner budget (100 steps of 64 games per iteration), then a table of their scores against
# rollout MCTS by iteration. Writes results/exit-hex/<arm>/ and summary.md.
#   tpt: the search's visit distribution as the target (ExIt's tree-policy targets)
#   cat: the search's chosen move as the target (chosen-action targets)
#   pg:  no search; REINFORCE self-play with the value head as baseline. It plays 48x the games
#        (12,288 per iteration, each move one model call), so its self-play spends about the
#        model calls that the expert's 256 games at 64 simulations do (~240k per iteration).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PONDER:-./target/release/ponder}   # PONDER=path runs another build
out=results/exit-hex
"$bin" run experiments/exit-hex.toml --quiet --out "$out/tpt"
"$bin" run experiments/exit-hex.toml --quiet --out "$out/cat" --set 'selfplay.targets="chosen_action"'
"$bin" run experiments/exit-hex.toml --quiet --out "$out/pg" --set 'selfplay.targets="policy_gradient"' \
  --set selfplay.episodes=12288 --set replay.window=12288
for col in s1_vs_mcts100_score s2_vs_mcts1000_score; do
  python3 scripts/sweep_table.py "$out" "$col" 5,10,15,20
  echo
done > "$out/summary.md"
cat "$out/summary.md"
