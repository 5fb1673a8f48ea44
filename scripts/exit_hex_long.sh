#!/usr/bin/env bash
# The longer pair of Expert Iteration arms (60 iterations each, same settings as
# scripts/exit_hex.sh otherwise): tree-policy targets against policy gradient, then the same
# 200-game re-measurements as scripts/exit_hex_eval.sh. Writes results/exit-hex/long-tpt/,
# long-pg/ and long-head-to-head.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PONDER:-./target/release/ponder}   # PONDER=path runs another build
out=results/exit-hex
if [ "${EVAL_ONLY:-0}" != 1 ]; then
  "$bin" run experiments/exit-hex.toml --quiet --out "$out/long-tpt" --set iterations=60
  "$bin" run experiments/exit-hex.toml --quiet --out "$out/long-pg" --set iterations=60 \
    --set 'selfplay.targets="policy_gradient"' --set selfplay.episodes=12288 --set replay.window=12288
fi
for arm in long-tpt long-pg; do
  "$bin" compare --checkpoint "$out/$arm/checkpoints/latest" --methods greedy,puct --budgets 64 \
    --games 200 --opponent 100 --out "$out/$arm/compare-mcts100" > /dev/null
done
engine() { echo "$bin gtp --game hex --size 5 --checkpoint $out/$1/checkpoints/latest --mode $2 --budget 64"; }
{
  echo "# Head to head after 60 iterations, 200 games each from 2-move random openings, both colours"
  echo
  for mode in system1 system2; do
    echo "## long-tpt against long-pg, $mode"
    echo
    echo '```'
    python3 scripts/gtp_match.py --games 200 --a "$(engine long-tpt "$mode")" --b "$(engine long-pg "$mode")" 2>/dev/null
    echo '```'
    echo
  done
} > "$out/long-head-to-head.md"
cat "$out"/long-*/compare-mcts100/compare.md "$out/long-head-to-head.md"
