#!/usr/bin/env bash
# The critic's hard negatives (TrainConfig.w_match_swap, issue 21; RESULTS.md "Two more levers", point 12), on
# val for one shapes seed: stage 2 (30 epochs) and stage 3 of the shipped GAN recipe with the swap term at W2 and
# W3, then the imagination figures after each stage, judged by stage 1 of the next seed. One CPU thread.
#   bash scripts/imagination/val_swap.sh 1 20 5 swap                                         (shape swaps)
#   bash scripts/imagination/val_swap.sh 1 20 5 swapc "--set match_swap_kinds=shapes+colours"
# → runs/<tag>/shapes-s<seed>/{stage2,gxn}, assets/results/imagination/val_<tag>/
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
s=$1; W2=${2:-20}; W3=${3:-5}; tag=${4:-swap}; extra=${5:-}
out=assets/results/imagination/val_$tag
mkdir -p "$out"
# shellcheck disable=SC2086  # $extra is "--set key=value" words
$PY -m lookimagine.train --preset shapes-imagine --seed "$s" --threads 1 --no-progress --out "runs/$tag/shapes-s$s/stage2" \
  --set "init_from=runs/final/shapes-s$s/stage1/best" --set "w_match_swap=$W2" $extra
cp "runs/$tag/shapes-s$s/stage2/run.json" "$out/shapes_s${s}_stage2_run.json"
# shellcheck disable=SC2086
$PY -m lookimagine.train --preset shapes-gxn-ft --seed "$s" --threads 1 --no-progress --out "runs/$tag/shapes-s$s/gxn" \
  --set "init_from=runs/$tag/shapes-s$s/stage2/best" --set "w_match_swap=$W3" $extra
cp "runs/$tag/shapes-s$s/gxn/run.json" "$out/shapes_s${s}_stage3_run.json"
for stage in stage2 gxn; do
  name=$([ "$stage" = gxn ] && echo stage3 || echo stage2)
  OMP_NUM_THREADS=1 $PY -m lookimagine.tools.imagination shapes --runs "runs/$tag/shapes-s$s/$stage" \
    --judge "runs/stage1/shapes-s$((s + 1))" --split val --threads 1 --out "$out/shapes_s${s}_${name}.json"
done
