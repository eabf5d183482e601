"""Shapes' final GXN seeds with the 30-epoch stage 2 against the same seeds with the 3-epoch one (issue 21), seed by
seed: the one change between them. The 3-epoch evaluations are read from git history (commit cae0375, the last
that held them), the 30-epoch ones from assets/results/final/shapes/; the figures and the paired 95% interval are
those of the verdict (lookimagine.evaluation.verdict.result_metrics and paired).

    python scripts/imagination/stage2_length_paired.py    (→ assets/results/imagination/stage2_length_paired.json)
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from lookimagine.evaluation.verdict import paired, result_metrics  # noqa: E402

BEFORE = "cae0375"
SEEDS = (1, 2, 3, 4, 5)
METRICS = ("i2t_r1", "t2i_r1", "rsum", "image_r_precision")
OUT = ROOT / "assets" / "results" / "imagination" / "stage2_length_paired.json"


def main() -> None:
    out = {"what": "GXN (30-epoch stage 2) − GXN (3-epoch stage 2), paired over the five final shapes seeds, "
                   "same stage 1, same judge (stage 1 of seed 0); image_r_precision: the judge's exact R-precision "
                   "of the imagined pictures",
           "command": "python scripts/imagination/stage2_length_paired.py", "before": BEFORE, "seeds": list(SEEDS),
           "splits": {}}
    for split in ("test", "test-heldout"):
        path = f"assets/results/final/shapes/gxn-s{{}}-{split}.json"
        before = [result_metrics(json.loads(subprocess.check_output(
            ["git", "show", f"{BEFORE}:{path.format(s)}"], cwd=ROOT))) for s in SEEDS]
        after = [result_metrics(json.loads((ROOT / path.format(s)).read_text())) for s in SEEDS]
        out["splits"][split] = {m: paired([b[m] for b in before], [a[m] for a in after]) for m in METRICS}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    for split, figures in out["splits"].items():
        print(split, {m: f"{f['mean']:+.1f} [{f['ci95'][0]:+.1f}, {f['ci95'][1]:+.1f}]" for m, f in figures.items()})


if __name__ == "__main__":
    main()
