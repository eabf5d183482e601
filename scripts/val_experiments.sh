#!/usr/bin/env bash
# Choices the paper leaves open or that differ from VSE++, measured on *val* only
# (baseline, emoji, seed 0, 10 epochs): similarity × ranking loss.
# Each run's run.json (its val history) is copied to assets/results/val/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p assets/results/val
run() {  # name, then --set arguments
  local name=$1; shift
  $PY -m lookimagine.train --preset emoji-baseline --seed 0 --epochs 10 --threads 1 --no-progress \
      --out "runs/val-$name" "$@"
  cp "runs/val-$name/run.json" "assets/results/val/$name.json"
}
run order-sum   --set similarity=order  --set ranking_loss=sum --set margin=0.05 &
run order-max   --set similarity=order  --set ranking_loss=max --set margin=0.2 &
wait
run cosine-sum  --set similarity=cosine --set ranking_loss=sum --set margin=0.05 &
run cosine-max  --set similarity=cosine --set ranking_loss=max --set margin=0.2 &
wait
