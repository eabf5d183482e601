#!/usr/bin/env bash
# The shipped pair (issue 20): GXN and its equal-epoch control on the stage 1 of the seed with the best
# stage-1 val rsum (report ship --rule stage1-val: chosen before any GXN is trained), evaluated on test and
# shipped to assets/checkpoints/<ds>/. Needs the five stage-1 seeds (scripts/stage1.sh). Resumable.
#   bash scripts/ship_pair.sh shapes      (→ runs/staged3/shapes-s<seed>/, assets/results/pair/shapes/)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
for s in 0 1 2 3 4; do
  [ -f "runs/stage1/$ds-s$s/run.json" ] || continue
  mkdir -p "runs/staged3/$ds-s$s"
  ln -sfn "$(realpath "runs/stage1/$ds-s$s")" "runs/staged3/$ds-s$s/stage1"
done
seed=$($PY -c "from pathlib import Path; from lookimagine.report import val_rsums
r = val_rsums(Path('runs/staged3'), '$ds', 'stage1'); print(max(r, key=r.get))")
echo "$ds: seed $seed has the best stage-1 val rsum"
WALL=0 STAGE1_ROOT=runs/stage1 ROOT=runs/staged3 bash scripts/staged.sh "$ds" "$seed"
ROOT=runs/staged3 OUT="assets/results/pair/$ds" bash scripts/evaluate_staged.sh "$ds" "$seed"
$PY -m lookimagine.report ship --dataset "$ds" --runs runs/staged3 --rule stage1-val --results "assets/results/pair/$ds"
