#!/usr/bin/env bash
# Issue 21's figures, on test, with judges that were never judged: the latent diffusion branch's stage-2 seeds
# (scripts/latent.sh) and, for the "before", the GAN GXN that shipped before it. Judges: stage 1 of seed 0 (scripts/stage1.sh),
# trained to convergence on val. Samplers chosen on val with another judge (assets/results/imagination/val_sampler/):
# shapes DDIM 20 steps, guidance 4 (judge: the shipped baseline); emoji DDIM 10 steps, guidance 6 (judge: stage 1
# of seed 3; emoji_w60_*). STEPS / GUIDANCE override both.
#   bash scripts/evaluate_imagination.sh                 (both datasets)
#   DATASETS=emoji bash scripts/evaluate_imagination.sh  (one)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
root=${ROOT:-runs/latent_pn}
datasets=${DATASETS:-shapes emoji}
if [[ " $datasets " == *" shapes "* ]]; then
$PY -m lookimagine.tools.imagination shapes --runs $root/shapes-s0/stage2 $root/shapes-s1/stage2 $root/shapes-s2/stage2 \
  --judge runs/stage1/shapes-s0 --split test --sheet assets/figures/imagined_latent_shapes.png ${STEPS:+--steps $STEPS} --guidance ${GUIDANCE:-4}
$PY -m lookimagine.tools.imagination shapes --runs assets/checkpoints/shapes/gxn --judge runs/stage1/shapes-s0 --split test \
  --out assets/results/imagination/gan_shipped.json --sheet assets/figures/imagined_gan_shapes.png
fi
if [[ " $datasets " == *" emoji "* ]]; then
# emoji: the shipped recipe, stage 3 of three full-recipe seeds (scripts/latent.sh emoji 2|3|4, ROOT runs/latent)
$PY -m lookimagine.tools.imagination emoji --runs runs/latent/emoji-s4/stage3 runs/latent/emoji-s2/stage3 runs/latent/emoji-s3/stage3 \
  --judge runs/stage1/emoji-s0 --split test --sheet assets/figures/imagined_latent_emoji.png --steps ${STEPS:-10} --guidance ${GUIDANCE:-6}
# the GAN GXN that shipped on emoji before the latent branch (seed 4; ship_pair.sh's runs/staged3/emoji-s4/gxn):
#   mkdir -p runs/gan_shipped/emoji && git archive b9d7486 assets/checkpoints/emoji/gxn | tar -x --strip-components 4 -C runs/gan_shipped/emoji
$PY -m lookimagine.tools.imagination emoji --runs runs/gan_shipped/emoji --judge runs/stage1/emoji-s0 --split test \
  --out assets/results/imagination/gan_shipped.json --sheet assets/figures/imagined_gan_emoji.png
fi
$PY -m lookimagine.tools.imagination_report
