"""The val curves of training runs, gathered with the commands that made them: the record of a recipe choice.

    python -m lookimagine.tools.val_curves runs/issue20/*/ --out assets/results/recipe/stage1_val.json

For each run folder (its ``run.json``, written when the run ends): the command, the preset, the seed, the
training settings that differ from the preset's, the best epoch and val rsum, wall seconds, pairs per second,
and per epoch the val rsum and R@1 both ways. Val only: these runs choose recipes, test is not read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def curve(run: Path) -> dict:
    """One run's record, from ``run/run.json``."""
    from ..config import get_preset, to_dict

    meta = json.loads((run / "run.json").read_text())
    preset = to_dict(get_preset(meta["preset"]).train)
    changed = {k: v for k, v in meta["train"].items() if preset.get(k) != v and k not in ("seed", "num_threads")}
    return {"command": meta["command"], "preset": meta["preset"], "seed": meta["seed"], "changed": changed,
            "best_epoch": meta["best_epoch"], "best_val_rsum": round(meta["best_val_rsum"], 2),
            "wall_seconds": meta["wall_seconds"], "pairs_per_second": meta["samples_per_second"],
            "val": [{"epoch": r["epoch"], "rsum": r["val_rsum"] and round(r["val_rsum"], 2),
                     "i2t_r1": r["val_i2t_r1"] and round(r["val_i2t_r1"], 2),
                     "t2i_r1": r["val_t2i_r1"] and round(r["val_t2i_r1"], 2)} for r in meta["history"]]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.tools.val_curves", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="+", help="run folders, each with a run.json")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    runs = {Path(r).name: curve(Path(r)) for r in args.runs if (Path(r) / "run.json").is_file()}
    report = {"command": "python -m lookimagine.tools.val_curves " + " ".join(argv if argv is not None else sys.argv[1:]),
              "runs": runs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    for name, r in runs.items():
        print(f"{name}: best epoch {r['best_epoch']}, val rsum {r['best_val_rsum']}, {r['wall_seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
