#!/usr/bin/env bash
# The staged recipe (issue 10, paper §3.4) for one dataset and seed, on one CPU thread:
#   stage1    the encoders alone: the {ds}-baseline preset;
#   baseline  the control: stage1 fine-tuned for 3 more epochs without generators ({ds}-baseline-ft);
#   stage2    captioner + GAN pretrained on the frozen stage-1 encoders ({ds}-imagine);
#   gxn       joint fine-tuning from stage2, same epochs and lr as the control ({ds}-gxn-ft);
#   baseline-wall  the control at equal wall-clock: stage1 fine-tuned without generators for as many epochs
#             as fit in GXN's stages 2 and 3 ({ds}-baseline-wall; WALL=0 skips it).
# GXN and its baseline thus share stage 1 and differ only in the generative branches.
# Every stage resumes from its own last/ and is skipped once it has written run.json.
#   bash scripts/staged.sh shapes 0        (ROOT=runs/staged by default)
# STAGE1_ROOT=runs/stage1 links stage 1 from scripts/stage1.sh's run of that seed instead of training it; the
# staged runs before issue 20 trained stage 1 with the first recipe (STAGE1_PRESET=<ds>-baseline-first).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
seed=$2
root=${ROOT:-runs/staged}/$ds-s$seed
mkdir -p "$root"
source scripts/train_stage.sh  # train <preset> <out> [--set KEY=VALUE ...]
if [ -n "${STAGE1_ROOT:-}" ]; then
  [ -f "$STAGE1_ROOT/$ds-s$seed/run.json" ] || { echo "no finished $STAGE1_ROOT/$ds-s$seed" >&2; exit 1; }
  ln -sfn "$(realpath "$STAGE1_ROOT/$ds-s$seed")" "$root/stage1"
else
  train "${STAGE1_PRESET:-$ds-baseline}" "$root/stage1"
fi
train "$ds-baseline-ft" "$root/baseline" --set init_from="$root/stage1/best"
# stage 2 as these runs trained it: 3 epochs (shapes' preset now trains 30, issue 21)
train "$ds-imagine" "$root/stage2" --set init_from="$root/stage1/best" --set epochs=3
train "$ds-gxn-ft" "$root/gxn" --set init_from="$root/stage2/best"
[ "${WALL:-1}" = 0 ] || train "$ds-baseline-wall" "$root/baseline-wall" --set init_from="$root/stage1/best"
echo "done $ds $seed"
