#!/usr/bin/env bash
# Why does GXN not beat its baseline here? Recipe variants of emoji-gxn, judged on *val* only
# (seed 0, the full 16-epoch budget, as the shipped runs). run.json (the val history) of each
# goes to assets/results/analysis/; the branch ablations (i2t, t2i, gxn-xe) come from train_all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p assets/results/analysis
run() {  # name, preset, then --set arguments
  local name=$1 preset=$2; shift 2
  $PY -m lookimagine.train --preset "$preset" --seed 0 --threads 1 --no-progress --out "runs/analysis-$name" "$@" \
      > "runs/log-analysis-$name.txt" 2>&1
  cp "runs/analysis-$name/run.json" "assets/results/analysis/$name.json"
}
run gxn-light emoji-gxn --set w_caption=0.25 --set w_gan=0.25 &   # generative losses at a quarter weight
run gxn-late  emoji-gxn --set gen_start_epoch=8 &                  # generators join half-way, after Look has settled
wait
