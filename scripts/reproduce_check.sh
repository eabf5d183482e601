#!/usr/bin/env bash
# Retrain the shipped emoji GXN from scratch with its recorded seed and command, evaluate it on test
# with the same judge, and compare R@1 with the shipped result (the bar: within ±1.0).
# Writes assets/results/reproduction_emoji.json.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
seed=$($PY -c "import json; print(json.load(open('assets/checkpoints/emoji/gxn/config.json'))['train']['seed'])")
judge_seed=$(( (seed + 1) % 3 ))
out=runs/repro-emoji-gxn-s$seed
start=$(date +%s)
$PY -m lookimagine.train --preset emoji-gxn --seed "$seed" --threads 1 --no-progress --out "$out" > /dev/null
trained=$(date +%s)
$PY -m lookimagine.evaluate "$out" --split test --judge "runs/emoji-baseline-s$judge_seed" \
    --json "runs/repro-emoji-gxn-s$seed.json" > /dev/null
$PY - "$seed" "$(( trained - start ))" <<'PY'
import json, sys
seed, seconds = int(sys.argv[1]), int(sys.argv[2])
shipped = json.load(open(f"assets/results/emoji/emoji-gxn-s{seed}.json"))["retrieval"]
again = json.load(open(f"runs/repro-emoji-gxn-s{seed}.json"))["retrieval"]
rows = {d: {"shipped_r1": shipped[d]["r1"], "reproduced_r1": again[d]["r1"],
            "difference": again[d]["r1"] - shipped[d]["r1"]} for d in ("image_to_text", "text_to_image")}
report = {"command": "bash scripts/reproduce_check.sh", "seed": seed, "train_seconds": seconds, "r1": rows,
          "within_1_point": all(abs(r["difference"]) <= 1.0 for r in rows.values())}
json.dump(report, open("assets/results/reproduction_emoji.json", "w"), indent=1)
print(json.dumps(report, indent=1))
PY
