#!/usr/bin/env bash
# The shipped pair with the latent diffusion branch (issue 21): GXN = scripts/latent.sh's stages 2 and 3, its
# control = the same stage 1 fine-tuned 3 epochs without generators ({ds}-baseline-ft), on the seed with the best
# stage-1 val rsum (report ship --rule stage1-val: chosen before any GXN was trained). Evaluated on the test
# splits with the seed-0 judge, then shipped to assets/checkpoints/<ds>/ with the sampler chosen on val.
# Needs runs/stage1/<ds>-s<seed> and runs/latent/<ds>-s<seed>/stage3 for the seeds to choose from. Resumable.
#   bash scripts/ship_latent.sh emoji       (→ runs/staged_latent/emoji-s<seed>/, assets/results/pair/emoji/)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
root=runs/staged_latent
for s in 1 2 3 4; do  # seed 0 is the judge: never judged, never shipped
  [ -f "runs/stage1/$ds-s$s/run.json" ] && [ -f "runs/latent/$ds-s$s/stage3/run.json" ] || continue
  mkdir -p "$root/$ds-s$s"
  ln -sfn "$(realpath "runs/stage1/$ds-s$s")" "$root/$ds-s$s/stage1"
  ln -sfn "$(realpath "runs/latent/$ds-s$s/stage2")" "$root/$ds-s$s/stage2"
  ln -sfn "$(realpath "runs/latent/$ds-s$s/stage3")" "$root/$ds-s$s/gxn"
done
seed=$($PY -c "from pathlib import Path; from lookimagine.report import choose_seed
print(choose_seed(Path('$root'), '$ds', 'stage1-val')[0])")
echo "$ds: seed $seed has the best stage-1 val rsum"
source scripts/train_stage.sh  # train <preset> <out> [--set KEY=VALUE ...]
train "$ds-baseline-ft" "$root/$ds-s$seed/baseline" --set init_from="$root/$ds-s$seed/stage1/best"
out=assets/results/pair/$ds
rm -f "$out"/gxn-s*.json "$out"/baseline-s*.json "$out/verdict.json"
JUDGE=runs/stage1/$ds-s0 ROOT=$root OUT=$out bash scripts/evaluate_staged.sh "$ds" "$seed"
$PY -m lookimagine.report ship --dataset "$ds" --runs $root --rule stage1-val --results "$out" --guidance 4
