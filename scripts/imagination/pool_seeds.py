"""One dataset's imagination figures pooled over seeds measured by separate runs of ``tools.imagination``.

Seeds of one recipe are sometimes measured at different times (a run's folder gone, a seed trained later). This
pools their per-seed figures into one mean ± std, refusing to mix what is not comparable: every input must
have the same split, query count, judge (path, seed and val rsum) and sampler. A seed measured in more than one
input must have the same figures in each (it is kept once).

    python scripts/imagination/pool_seeds.py emoji assets/results/imagination.json \\
        assets/results/imagination/emoji_seeds_1_2_5_test.json --out assets/results/imagination/emoji_all_seeds.json
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lookimagine.evaluation.verdict import mean_ci  # noqa: E402
from lookimagine.tools.imagination_report import COMPARED, FIGURES, check_comparable  # noqa: E402


def pool(entries: list[dict]) -> dict:
    """entries: ``tools.imagination`` dataset entries → {figure: {mean, std, values}, seeds, per_seed}."""
    first = entries[0]
    for e in entries[1:]:
        check_comparable(e, first)
    by_seed: dict[int, dict] = {}
    for e in entries:
        for run in e["per_seed"]:
            seen = by_seed.get(run["seed"])
            if seen is None:
                by_seed[run["seed"]] = run
                continue
            for key in FIGURES:
                if key in run and not math.isclose(run[key], seen[key], rel_tol=1e-3, abs_tol=1e-3):
                    raise ValueError(f"seed {run['seed']} measured twice with different {key}: "
                                     f"{run[key]} against {seen[key]}")
    seeds = sorted(by_seed)
    out = {"seeds": seeds}
    for key in FIGURES:
        if all(key in by_seed[s] for s in seeds):
            stat = mean_ci([by_seed[s][key] for s in seeds])  # mean, std and the 95% t-interval over seeds
            out[key] = {"mean": stat["mean"], "std": stat["std"] or 0.0, "ci95": stat["ci95"], "values": stat["values"]}
    out["per_seed"] = [{"seed": s, "run": by_seed[s]["run"], **{k: by_seed[s][k] for k in FIGURES if k in by_seed[s]}}
                       for s in seeds]
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset", choices=["shapes", "emoji"])
    p.add_argument("inputs", nargs="+", help="tools.imagination JSONs holding the dataset's entry")
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    entries = [json.loads(Path(f).read_text())[a.dataset] for f in a.inputs]
    result = {"what": __doc__.split("\n")[0], "command": "python scripts/imagination/pool_seeds.py "
              + " ".join(sys.argv[1:] if argv is None else argv), "dataset": a.dataset,
              "inputs": [{"file": f, "command": e["command"], "seeds": e["seeds"]} for f, e in zip(a.inputs, entries)],
              **{k: entries[0][k] for k in COMPARED}, "judge": entries[0]["judge"],
              "r_precision_real": entries[0]["r_precision_real"], **pool(entries)}
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: result[k] for k in ("seeds", *[f for f in FIGURES if f in result])}, indent=1))


if __name__ == "__main__":
    main()
