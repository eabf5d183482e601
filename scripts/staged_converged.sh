#!/usr/bin/env bash
# GXN on top of a longer-trained encoder: the staged recipe's stage 2, stage 3 (GXN) and equal-epoch control,
# started from the equal-wall-clock control (stage 1 + 15 more epochs on shapes) instead of from stage 1.
# It asks whether imagining still helps once the ranking loss alone has had the time GXN's stages take.
#   ROOT=runs/staged2 bash scripts/staged_converged.sh shapes 0      (→ runs/converged/shapes-s0/)
# Each stage resumes from its own last/ and is skipped once it has written run.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
seed=$2
src=${ROOT:-runs/staged}/$ds-s$seed/baseline-wall
root=${OUT_ROOT:-runs/converged}/$ds-s$seed
[ -f "$src/run.json" ] || { echo "no finished $src: run scripts/staged.sh $ds $seed first" >&2; exit 1; }
mkdir -p "$root"
ln -sfn "$(realpath "$src")" "$root/stage1"
source scripts/train_stage.sh  # train <preset> <out> [--set KEY=VALUE ...]
train "$ds-baseline-ft" "$root/baseline" --set init_from="$root/stage1/best"
# stage 2 as these runs trained it: 3 epochs (shapes' preset now trains 30, issue 21)
train "$ds-imagine" "$root/stage2" --set init_from="$root/stage1/best" --set epochs=3
train "$ds-gxn-ft" "$root/gxn" --set init_from="$root/stage2/best"
echo "done $ds $seed"
