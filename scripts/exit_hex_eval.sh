#!/usr/bin/env bash
# After scripts/exit_hex.sh: the three arms' final policies measured with more games than the
# loop's 40 — each against rollout MCTS with 100 simulations (200 games, `ponder compare`), and
# head to head (200 games from 2-move random openings, both colours, scripts/gtp_match.py) —
# System 1 (the policy alone) and System 2 (PUCT, 64 simulations). Writes
# results/exit-hex/<arm>/compare-mcts100/ and results/exit-hex/head-to-head.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PONDER:-./target/release/ponder}   # PONDER=path runs another build
out=results/exit-hex
for arm in tpt cat pg; do
  "$bin" compare --checkpoint "$out/$arm/checkpoints/latest" --methods greedy,puct --budgets 64 \
    --games 200 --opponent 100 --out "$out/$arm/compare-mcts100" > /dev/null
done
engine() { echo "$bin gtp --game hex --size 5 --checkpoint $out/$1/checkpoints/latest --mode $2 --budget 64"; }
{
  echo "# Head to head, 200 games each from 2-move random openings, both colours"
  echo
  for mode in system1 system2; do
    for pair in "tpt pg" "cat pg" "tpt cat"; do
      read -r a b <<<"$pair"
      echo "## $a against $b, $mode"
      echo
      echo '```'
      python3 scripts/gtp_match.py --games 200 --a "$(engine "$a" "$mode")" --b "$(engine "$b" "$mode")" 2>/dev/null
      echo '```'
      echo
    done
  done
} > "$out/head-to-head.md"
cat "$out"/*/compare-mcts100/compare.md "$out/head-to-head.md"
