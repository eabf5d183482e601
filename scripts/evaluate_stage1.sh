#!/usr/bin/env bash
# Evaluate the stage-1 baselines (scripts/stage1.sh) on every test split, then summarise the seeds.
#   bash scripts/evaluate_stage1.sh shapes "0 1 2 3 4"   (ROOT: the runs, default runs/stage1; OUT: the JSONs)
# Splits: shapes test + test-heldout (truth protocol, per caption type); emoji test (the three training
# styles), test-style (Noto) and test-style-wild (Noto drawn as visitors frame pictures, python -m
# lookimagine.tools.framing), each as it is and through the pipeline's reframing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
seeds=${2:-"0 1 2 3 4"}
runs=${ROOT:-runs/stage1}
out=${OUT:-assets/results/stage1/$ds}
mkdir -p "$out"
case $ds in
  shapes) splits="test test-heldout" ;;
  emoji) splits="test test-style" ;;
esac
checkpoints=()
for seed in $seeds; do
  [ -f "$runs/$ds-s$seed/run.json" ] || { echo "skip $ds seed $seed: not finished"; continue; }
  checkpoints+=(--checkpoint "s$seed=$runs/$ds-s$seed/best")
  for split in $splits; do
    json=$out/baseline-s$seed-$split.json
    [ -f "$json" ] || $PY -m lookimagine.evaluate "$runs/$ds-s$seed" --split "$split" --seed "$seed" \
      --json "$json" > /dev/null
  done
done
if [ "$ds" = emoji ] && [ ! -f "$out/wild.json" ]; then
  $PY -m lookimagine.tools.framing --splits test-style-wild "${checkpoints[@]}" --out "$out/wild.json" > /dev/null
fi
$PY -m lookimagine.tools.stage1_report "$ds" --runs "$runs" --results "$out" --seeds $seeds
