#!/usr/bin/env bash
# Issue 23's final paired seeds of the shipped recipe with the latent diffusion branch, for one dataset:
# per seed, stage 1 to convergence (scripts/stage1.sh), stages 2 and 3 (scripts/latent.sh) and the equal-epoch
# control {ds}-baseline-ft from the same stage 1 (3 epochs at stage 3's lr, no generators), and the control at
# equal wall-clock {ds}-baseline-wall-latent (the same for up to as long as stages 2 and 3 take, early-stopped
# on val; lookimagine/config.py says how its budget was measured). Evaluated on the
# test splits with the judge of seed 0 (never one of the paired seeds), then the verdict (paired t, Holm).
# Resumable: finished stages and evaluations are kept. One thread per training run.
#   bash scripts/final_latent.sh emoji                      (seeds 1-5 → runs/final/emoji-s<seed>/, assets/results/final/emoji/)
#   SEEDS="2 3 4" TRAIN=0 bash scripts/final_latent.sh emoji   (only link, control and evaluate seeds already trained)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
seeds=${SEEDS:-1 2 3 4 5}
root=runs/final
out=assets/results/final/$ds
mkdir -p "$root" "$out"
source scripts/train_stage.sh  # train <preset> <out> [--set KEY=VALUE ...]
for seed in $seeds; do
  if [ "${TRAIN:-1}" = 1 ]; then
    bash scripts/stage1.sh "$ds" "$seed"
    bash scripts/latent.sh "$ds" "$seed"
  fi
  [ -f "runs/latent/$ds-s$seed/stage3/run.json" ] || { echo "skip $ds seed $seed: not trained"; continue; }
  mkdir -p "$root/$ds-s$seed"
  ln -sfn "$(realpath "runs/stage1/$ds-s$seed")" "$root/$ds-s$seed/stage1"
  ln -sfn "$(realpath "runs/latent/$ds-s$seed/stage2")" "$root/$ds-s$seed/stage2"
  ln -sfn "$(realpath "runs/latent/$ds-s$seed/stage3")" "$root/$ds-s$seed/gxn"
  train "$ds-baseline-ft" "$root/$ds-s$seed/baseline" --set init_from="$root/$ds-s$seed/stage1/best"
  train "$ds-baseline-wall-latent" "$root/$ds-s$seed/baseline-wall" --set init_from="$root/$ds-s$seed/stage1/best"
done
JUDGE=runs/stage1/$ds-s0 ROOT=$root OUT=$out bash scripts/evaluate_staged.sh "$ds" "$seeds"
