#!/usr/bin/env bash
# Why does GXN not beat its baseline here? Recipe variants of emoji-gxn, judged on *val* only
# (seed 0, first 10 of the 16 epochs: compare with the other runs' val curves at epoch 10; no RL yet).
# run.json (the val history) of each
# goes to assets/results/analysis/; the branch ablations (i2t, t2i, gxn-xe) come from train_all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p assets/results/analysis
run() {  # name, preset, then --set arguments
  local name=$1 preset=$2; shift 2
  $PY -m lookimagine.train --preset "$preset" --seed 0 --epochs 10 --threads 1 --no-progress \
      --out "runs/analysis-$name" "$@" \
      > "runs/log-analysis-$name.txt" 2>&1
  cp "runs/analysis-$name/run.json" "assets/results/analysis/$name.json"
}
run gxn-light emoji-gxn --set w_caption=0.25 --set w_gan=0.25 &   # generative losses at a quarter weight
run gxn-late  emoji-gxn --set gen_start_epoch=5 &                  # generators join after Look has settled
wait
