#!/usr/bin/env bash
# The val experiments behind the staged recipe (issues 9 and 10), one seed each, then their summary:
#   bash scripts/val_recipe.sh      → assets/results/val/recipe_choices.json
# shapes (5 epochs, 8k scenes, lr 1e-3 cosine): mean vs flattened pooling; false-negative masking;
# a fresh training set every epoch. emoji (three styles, 8 epochs): lr 1e-3 cosine vs the old 2e-4.
# stage 2 (generators on frozen encoders): GAN + matching critic, with and without the L1 term (both were
# stopped by hand after 2 of their epochs, when the picture was clear; the JSON holds what they ran).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
T="--threads 1 --no-progress"
run() { local out=$1; shift; [ -f "$out/run.json" ] || $PY -m lookimagine.train "$@" $T --out "$out" > "$out.log" 2>&1; }
mkdir -p runs/val9 runs/val9e runs/val10
S="--preset shapes-baseline --epochs 5 --set n_train=8000 --set lr=0.001 --set lr_schedule=cosine \
   --set fresh_data=false --set mask_true_negatives=false"
run runs/val9/mean $S --set pool=mean
run runs/val9/flat $S --set pool=flatten
run runs/val9/mean-mask $S --set mask_true_negatives=true
run runs/val9/mean-mask-fresh $S --set mask_true_negatives=true --set fresh_data=true
E="--preset emoji-baseline --epochs 8"
run runs/val9e/lr1e-3-cos $E --set lr=0.001 --set lr_schedule=cosine
run runs/val9e/lr2e-4-step $E --set lr=0.0002 --set lr_schedule=step
G="--preset shapes-gxn-xe --epochs 3 --set freeze_encoders=true --set w_rank=0 --set w_match=1.0 \
   --set batch_size=64 --set gen_batch=64 --set lr=0.001"
run runs/val10/stage2-gan-match $G --set n_train=8000 --set init_from=runs/val9/mean/best --set w_kl=0.02 \
  --set gen_lr=0.0002
run runs/val10/stage2-gan-match-l1 $G --set n_train=6000 --set fresh_data=true \
  --set init_from=runs/val9/mean-mask-fresh/best --set w_l1=20 --set w_kl=0.001 --set gen_lr=0.002
$PY - <<'PY'
import json, pathlib
out = {"command": "bash scripts/val_recipe.sh", "split": "val", "runs": {}}
for run in sorted(pathlib.Path("runs").glob("val*/*/")):
    meta = run / "run.json"
    state = run / "last" / "trainer_state.json"
    hist = json.loads(meta.read_text())["history"] if meta.is_file() else \
        json.loads(state.read_text())["history"] if state.is_file() else None
    if hist:
        out["runs"][str(run)] = [{k: r[k] for k in ("epoch", "val_rsum", "val_i2t_r1", "val_t2i_r1", "health", "match", "l1")
                                  if k in r} for r in hist]
path = pathlib.Path("assets/results/val/recipe_choices.json")
path.write_text(json.dumps(out, indent=1))
print(path)
PY
