#!/usr/bin/env bash
# Evaluate the staged runs (scripts/staged.sh) on every test split, then write the verdict.
#   bash scripts/evaluate_staged.sh shapes "0 1 2 3 4"      (ROOT: the runs, default runs/staged; OUT: where the JSONs go)
# Variants: baseline (equal epochs), gxn, and baseline-wall (equal wall-clock) where it was trained.
# Splits: shapes test + test-heldout (truth protocol); emoji test (three training styles) + test-style (Noto).
# Generated images are judged by the stage-1 baseline of another seed (seed 0's; seed 1's for seed 0), never by
# the generator's own encoders (JUDGE overrides). Seeds whose GXN has not finished yet are skipped (re-run to add them).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
seeds=${2:-"0 1 2 3 4"}
runs=${ROOT:-runs/staged}
out=${OUT:-assets/results/staged/$ds}
mkdir -p "$out"
case $ds in
  shapes) splits="test test-heldout" ;;
  emoji) splits="test test-style" ;;
esac
for seed in $seeds; do
  [ -f "$runs/$ds-s$seed/gxn/run.json" ] || { echo "skip $ds seed $seed: not finished"; continue; }
  judge_seed=$(( seed == 0 ? 1 : 0 ))
  judge=${JUDGE:-$runs/$ds-s$judge_seed/stage1}  # JUDGE: another judge run (e.g. runs/stage1/emoji-s0)
  for variant in baseline gxn baseline-wall; do
    [ -f "$runs/$ds-s$seed/$variant/run.json" ] || continue  # baseline-wall: only where it was trained
    for split in $splits; do
      json=$out/$variant-s$seed-$split.json
      [ -f "$json" ] && continue
      $PY -m lookimagine.evaluate "$runs/$ds-s$seed/$variant" --split "$split" --seed "$seed" \
        --judge "$judge" --json "$json" > /dev/null
    done
  done
done
$PY -m lookimagine.evaluation.verdict "$out" --runs "$runs" --dataset "$ds" --seeds $seeds
