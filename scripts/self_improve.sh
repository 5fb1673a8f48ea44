#!/usr/bin/env bash
# Self-Improving Transformers (Lee et al. 2025) at laptop scale: stage 1 trains the base on
# 1-3-digit sums with labels (experiments/self-improve-base.toml); stage 2 self-labels longer
# sums with no verifier (experiments/self-improve.toml), with and without the filters.
# Writes results/self-improve-base/, results/self-improve/filtered/ and .../unfiltered/.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PONDER:-./target/release/ponder}   # PONDER=path runs another build
[ -f results/self-improve-base/checkpoints/latest/meta.json ] ||
  "$bin" run experiments/self-improve-base.toml --quiet
"$bin" run experiments/self-improve.toml --quiet --out results/self-improve/filtered
"$bin" run experiments/self-improve.toml --quiet --out results/self-improve/unfiltered \
  --set selfplay.samples_per_task=1 --set selfplay.self_label.agreement=0 \
  --set selfplay.self_label.length_filter=false
python3 scripts/sweep_table.py results/self-improve s1_exact_up_to 3,6,9,12,15 | tee results/self-improve/summary.md
