#!/usr/bin/env bash
# Ship the pair of issue 23's final seeds (scripts/final_latent.sh): the seed whose GXN − baseline val rsum
# difference is the median of the five (report ship --rule median-val-diff: chosen on val, favouring neither
# model), with the sampler chosen on val (emoji: DDIM 10 steps, guidance 6; assets/results/imagination/val_sampler/;
# shapes: the best of 8 drawings by GXN's own s*, BEST_OF; assets/results/imagination/best_of/, RESULTS.md point 13).
# The shipped seed's test evaluations are copied to assets/results/pair/<ds>/ with their one-seed verdict, which
# the README's pair figures and "Where they differ" read.
#   bash scripts/ship_final.sh emoji
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
steps=${STEPS:-10}
guidance=${GUIDANCE:-6}
best_of=${BEST_OF:-8}  # shapes only: each picture the best of k drawings (emoji's diffusion branch draws once)
root=runs/final
out=assets/results/final/$ds
seed=$($PY -m lookimagine.report ship --dataset "$ds" --runs $root --rule median-val-diff --results "$out" \
  --steps "$steps" --guidance "$guidance" $([ "$ds" = shapes ] && echo --best-of "$best_of") | $PY -c "import json, sys; print(json.load(sys.stdin)['gxn']['seed'])")
pair=assets/results/pair/$ds
mkdir -p "$pair"
rm -f "$pair"/*.json
cp "$out"/gxn-s"$seed"-*.json "$out"/baseline-s"$seed"-*.json "$pair"/
$PY -m lookimagine.evaluation.verdict "$pair" --runs $root --dataset "$ds" --seeds "$seed"
echo "shipped $ds seed $seed"
