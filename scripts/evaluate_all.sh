#!/usr/bin/env bash
# Evaluate every finished run once on its test split (and shapes' test-heldout),
# writing assets/results/<dataset>/<run>[-heldout].json. Generated images are
# judged by a baseline of *another* seed (never by the generator's own model).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
for run in runs/emoji-*-s[0-9] runs/shapes-*-s[0-9]; do
  [ -f "$run/run.json" ] || { echo "skip $run (not finished)"; continue; }
  name=$(basename "$run"); ds=${name%%-*}; seed=${name##*-s}
  judge="runs/$ds-baseline-s$(( (seed + 1) % 3 ))"
  [ -d "$judge/best" ] || judge="runs/$ds-baseline-s$(( (seed + 2) % 3 ))"
  mkdir -p "assets/results/$ds/train"
  cp "$run/run.json" "assets/results/$ds/train/$name.json"   # the training record: val history, time, memory
  splits="test"; [ "$ds" = shapes ] && splits="test test-heldout"
  for split in $splits; do
    suffix=""; [ "$split" = test-heldout ] && suffix="-heldout"
    out="assets/results/$ds/$name$suffix.json"
    [ -f "$out" ] && continue
    $PY -m lookimagine.evaluate "$run" --split "$split" --judge "$judge" --json "$out" > /dev/null
    echo "wrote $out"
  done
done
