#!/usr/bin/env bash
# Jones (2021) at laptop scale on Hex 4x4 (experiments/scaling-hex.toml): train three network
# sizes, keeping snapshots; play every snapshot at 2, 4, 8, 16, 24, 32 iterations against perfect
# play at test budgets 1..256 PUCT simulations (`ponder compare --elo`: 1,000 games from 2-move
# random openings, both colours); then fit the train/test compute trade-off at fixed Elo.
# Writes results/scaling-hex/<size>/ (the runs), .../<size>/elo-<iter>/ (compare output) and
# results/scaling-hex/fit.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PONDER:-./target/release/ponder}   # PONDER=path runs another build
out=results/scaling-hex
sizes=("d16-l1 16 1" "d32-l2 32 2" "d64-l2 64 2")
for s in "${sizes[@]}"; do
  read -r name d l <<<"$s"
  [ -f "$out/$name/checkpoints/iter-0032/meta.json" ] && continue
  "$bin" run experiments/scaling-hex.toml --quiet --out "$out/$name" \
    --set model.d_model="$d" --set model.n_layer="$l"
done
for s in "${sizes[@]}"; do
  read -r name d l <<<"$s"
  for it in 0002 0004 0008 0016 0024 0032; do
    [ -f "$out/$name/elo-$it/compare.csv" ] && continue
    "$bin" compare --checkpoint "$out/$name/checkpoints/iter-$it" --elo --methods puct \
      --budgets 1,2,4,8,16,32,64,128,256 --games 1000 --opening 2 --out "$out/$name/elo-$it" > /dev/null
  done
done
python3 scripts/scaling_fit.py "$out" | tee "$out/fit.md"
