#!/usr/bin/env bash
# Stage 1 to convergence (issue 20) for one dataset and seed, on one CPU thread: the {ds}-baseline preset,
# the encoders alone. It is the shipped baseline and the start of GXN's stages 2 and 3. Resumable.
#   bash scripts/stage1.sh shapes 0        (ROOT=runs/stage1 by default → runs/stage1/shapes-s0)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
seed=$2
root=${ROOT:-runs/stage1}
mkdir -p "$root"
source scripts/train_stage.sh  # train <preset> <out> [--set KEY=VALUE ...]
train "$ds-baseline" "$root/$ds-s$seed"
echo "done $ds $seed"
