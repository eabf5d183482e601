#!/usr/bin/env bash
# The latent diffusion branch (issue 21) for one dataset and seed, on one CPU thread, resumable:
#   stage 2  {ds}-imagine-latent  captioner + latent UNet on the frozen stage-1 encoders of ENCODERS_SEED
#   stage 3  {ds}-gxn-latent-ft   joint fine-tuning from stage 2
# Needs runs/stage1/{ds}-s<ENCODERS_SEED> (scripts/stage1.sh) and runs/autoencoder/{ds}
# (python -m lookimagine.tools.train_autoencoder). ENCODERS_SEED defaults to the seed itself (the full recipe).
#   bash scripts/latent.sh shapes 0          (→ runs/latent/shapes-s0/{stage2,stage3})
#   ENCODERS_SEED=1 bash scripts/latent.sh shapes 2
#   SET="diffusion_pooled=false" ROOT=runs/latent_crossattn bash scripts/latent.sh shapes 0   (--set for both stages)
# The runs behind assets/results/imagination.json ran with SET="diffusion_pooled=true diffusion_context_norm=true"
# and ROOT=runs/latent_pn, before those became the presets' values.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
ds=$1
seed=$2
enc=${ENCODERS_SEED:-$seed}
root=${ROOT:-runs/latent}/$ds-s$seed
mkdir -p "$root"
extra=()
for kv in ${SET:-}; do extra+=(--set "$kv"); done
source scripts/train_stage.sh  # train <preset> <out> [--set KEY=VALUE ...]
train "$ds-imagine-latent" "$root/stage2" --set "init_from=runs/stage1/$ds-s$enc/best" "${extra[@]}"
train "$ds-gxn-latent-ft" "$root/stage3" --set "init_from=$root/stage2/best" "${extra[@]}"
echo "done $ds $seed (encoders of seed $enc)"
