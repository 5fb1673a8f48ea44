#!/usr/bin/env bash
# The longer pair of Expert Iteration arms (60 iterations each, same settings as
# scripts/exit_hex.sh otherwise): tree-policy targets against policy gradient, then the same
# 200-game re-measurements as scripts/exit_hex_eval.sh (which this calls). Writes
# results/exit-hex/long-tpt/, long-pg/ and long-head-to-head.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${PONDER:-./target/release/ponder}   # PONDER=path runs another build
out=results/exit-hex
if [ "${EVAL_ONLY:-0}" != 1 ]; then
  "$bin" run experiments/exit-hex.toml --quiet --out "$out/long-tpt" --set iterations=60
  "$bin" run experiments/exit-hex.toml --quiet --out "$out/long-pg" --set iterations=60 \
    --set 'selfplay.targets="policy_gradient"' --set selfplay.episodes=12288 --set replay.window=12288
fi
ARMS="long-tpt long-pg" PAIRS="long-tpt:long-pg" REPORT=long-head-to-head.md \
  TITLE="Head to head after 60 iterations, 200 games each from 2-move random openings, both colours" \
  PONDER="$bin" scripts/exit_hex_eval.sh
