#!/usr/bin/env bash
# Issue 23, "when does imagining pay?": GXN − baseline on shapes against the training set's size, one seed of
# one size per call, on one CPU thread; `python -m lookimagine.tools.data_size` then writes the curve.
#   bash scripts/data_size.sh 1000 1      (a fixed set of 1,000 scenes, seed 1 → runs/data_size/shapes-n1000-s1)
#   bash scripts/data_size.sh fresh 2     (10,000 fresh scenes every epoch, the staged recipe's own data)
# The staged GAN recipe of shapes (scripts/staged.sh with STAGE1_PRESET=shapes-baseline-first), with the training
# set fixed at N scenes (`n_train=N fresh_data=false`). Every stage sees as many training pairs as with fresh
# data, so the sizes differ in the data alone, not in the compute: a stage of E epochs of 10,000 fresh scenes
# becomes 10,000·E/N epochs of the N scenes (stage 2's 3 epochs of 6,000 become 18,000/N, 4.5 → 5 at N = 4,000;
# stage 3's 3 epochs become 7.5 → 8), validated about every 10,000 pairs (`val_every`), with stage 1's patience
# of 3 epochs scaled alike.
# The control at equal wall-clock gets as many epochs as fit, at the equal-epoch control's own measured speed,
# in the time this very run's stages 2 and 3 took (their run.json wall_seconds): measured in the format and on
# the machine the runs use. Evaluated on shapes test (retrieval only). Resumable: finished stages are kept.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
size=$1
seed=$2
root=runs/data_size/shapes-n$size-s$seed
out=assets/results/data_size/shapes
mkdir -p "$root" "$out"
source scripts/train_stage.sh  # train <preset> <out> [--set KEY=VALUE ...]
case $size in
  fresh) data=(); s1=(); s2=(--set epochs=3); s3=(); every=1 ;;  # stage 2 as recorded (the preset now trains 30)
  1000) data=(--set n_train=1000 --set fresh_data=false)
        s1=(--set epochs=100 --set val_every=10 --set early_stop_patience=30)
        s2=(--set n_train=1000 --set fresh_data=false --set epochs=18 --set val_every=6)
        s3=(--set epochs=30 --set val_every=10); every=10 ;;
  4000) data=(--set n_train=4000 --set fresh_data=false)
        s1=(--set epochs=25 --set val_every=2 --set early_stop_patience=8)
        s2=(--set n_train=4000 --set fresh_data=false --set epochs=5 --set val_every=5)
        s3=(--set epochs=8 --set val_every=2); every=2 ;;
  *) echo "size: 1000, 4000 or fresh" >&2; exit 2 ;;
esac
train shapes-baseline-first "$root/stage1" "${data[@]}" "${s1[@]}"
train shapes-baseline-ft "$root/baseline" --set init_from="$root/stage1/best" "${data[@]}" "${s3[@]}"
train shapes-imagine "$root/stage2" --set init_from="$root/stage1/best" "${s2[@]}"
train shapes-gxn-ft "$root/gxn" --set init_from="$root/stage2/best" "${data[@]}" "${s3[@]}"
wall_epochs=$(control_epochs "$root" "$every")
train shapes-baseline-wall "$root/baseline-wall" --set init_from="$root/stage1/best" "${data[@]}" \
  --set epochs="$wall_epochs" --set val_every="$every"
for variant in baseline gxn baseline-wall; do
  json=$out/$variant-n$size-s$seed-test.json
  [ -f "$json" ] || $PY -m lookimagine.evaluate "$root/$variant" --split test --seed "$seed" --json "$json" > /dev/null
done
echo "done shapes n=$size seed $seed (control at equal wall-clock: $wall_epochs epochs)"
