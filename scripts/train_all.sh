#!/usr/bin/env bash
# Every training run behind the shipped results, two at a time on one CPU thread
# each. Re-running resumes unfinished runs and skips finished ones.
#   bash scripts/train_all.sh            # everything (≈ 75 min on 2 cores)
#   JOBS=1 bash scripts/train_all.sh     # one at a time
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
JOBS=${JOBS:-2}
runs=()
for ds in emoji shapes; do
  for s in 0 1 2; do runs+=("$ds-baseline $s"); done   # first: they also judge the generated images
done
for ds in emoji shapes; do
  for s in 0 1 2; do runs+=("$ds-gxn $s"); done
done
for v in gxn-diffusion t2i gxn-xe i2t i2t-xe; do runs+=("emoji-$v 0"); done   # the paper's ablations, one seed
for v in gxn-diffusion i2t t2i gxn-xe; do runs+=("shapes-$v 0"); done
printf '%s\n' "${runs[@]}" | xargs -P "$JOBS" -L 1 bash -c \
  "$PY -m lookimagine.train --preset \$0 --seed \$1 --threads 1 --no-progress --out runs/\$0-s\$1 > runs/log-\$0-s\$1.txt 2>&1 && echo done \$0 \$1"
