#!/usr/bin/env bash
# After scripts/exit_hex.sh: the three arms' final policies measured with more games than the
# loop's 40 — each against rollout MCTS with 100 simulations (200 games, `ponder compare`), and
# head to head (200 games from 2-move random openings, both colours, scripts/gtp_match.py) —
# System 1 (the policy alone) and System 2 (PUCT, 64 simulations). Writes
# results/exit-hex/<arm>/compare-mcts100/ and results/exit-hex/head-to-head.md.
#
# Other arms (scripts/exit_hex_long.sh uses these): ARMS="a b" measures results/exit-hex/a and
# b, PAIRS="a:b ..." are the head-to-head matches, REPORT the file under results/exit-hex/ and
# TITLE its heading.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PONDER:-./target/release/ponder}   # PONDER=path runs another build
out=results/exit-hex
arms=${ARMS:-tpt cat pg}
pairs=${PAIRS:-tpt:pg cat:pg tpt:cat}
report=${REPORT:-head-to-head.md}
title=${TITLE:-Head to head, 200 games each from 2-move random openings, both colours}
for arm in $arms; do
  "$bin" compare --checkpoint "$out/$arm/checkpoints/latest" --methods greedy,puct --budgets 64 \
    --games 200 --opponent 100 --out "$out/$arm/compare-mcts100" > /dev/null
done
engine() { echo "$bin gtp --game hex --size 5 --checkpoint $out/$1/checkpoints/latest --mode $2 --budget 64"; }
{
  echo "# $title"
  echo
  for mode in system1 system2; do
    for pair in $pairs; do
      a=${pair%%:*} b=${pair##*:}
      echo "## $a against $b, $mode"
      echo
      echo '```'
      python3 scripts/gtp_match.py --games 200 --a "$(engine "$a" "$mode")" --b "$(engine "$b" "$mode")" 2>/dev/null
      echo '```'
      echo
    done
  done
} > "$out/$report"
for arm in $arms; do cat "$out/$arm/compare-mcts100/compare.md"; done
cat "$out/$report"
