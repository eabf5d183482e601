"""Where a training run's minutes go: pairs per second end to end against pairs per second in the steps.

    python -m lookimagine.tools.trainer_throughput shapes-baseline --epochs 2 --json OUT.json
    python -m lookimagine.tools.trainer_throughput shapes-baseline --epochs 2 \\
        --set fresh_data=false --set n_train=4000 --set all_captions=true --set val_every=2 --json OUT.json

Runs ``Trainer.fit`` on one thread in a temporary folder, exactly as ``python -m lookimagine.train`` would,
and times it from the trainer's construction (splits rendered, vocabulary built, val truth) to the end of
``fit`` (every epoch's steps, rendering of fresh scenes, validation, records, checkpoints). ``steps`` is the
time inside the epochs' step loops (``epoch_seconds``); everything else is overhead. A plain loop over the
same model spends all its time in steps, so ``steps_pairs_per_second`` is the plain loop's rate and
``pairs_per_second`` what a run achieves; their ratio is the share of the run spent training.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path


def measure(preset_name: str, overrides: list[str], epochs: int, seed: int = 0) -> dict:
    """The run's pairs, wall seconds, seconds in steps, and both rates."""
    import torch

    from ..config import get_preset, to_dict
    from ..training.cli import build_parser, configs
    from ..training.trainer import Trainer

    torch.set_num_threads(1)
    preset = get_preset(preset_name)
    parser = build_parser()
    args = parser.parse_args(["--preset", preset_name, "--epochs", str(epochs), "--seed", str(seed), "--threads", "1",
                              *[x for item in overrides for x in ("--set", item)]])
    train_cfg, model_cfg = configs(preset, args, parser)
    with tempfile.TemporaryDirectory(prefix="throughput-") as out:
        start = time.perf_counter()
        trainer = Trainer(model_cfg, train_cfg, Path(out) / "run", preset=preset_name, progress=False)
        built = time.perf_counter() - start
        meta = trainer.fit()
        wall = time.perf_counter() - start
    history = meta["history"]
    pairs = round(sum(r["samples_per_second"] * r["epoch_seconds"] for r in history))
    steps = sum(r["epoch_seconds"] for r in history)
    return {"preset": preset_name, "set": overrides, "epochs": epochs, "train": to_dict(train_cfg),
            "pairs": pairs, "wall_seconds": round(wall, 1), "setup_seconds": round(built, 1),
            "step_seconds": round(steps, 1), "pairs_per_second": round(pairs / wall, 1),
            "steps_pairs_per_second": round(pairs / steps, 1), "share_in_steps": round(steps / wall, 3),
            "val_rsum": [r["val_rsum"] for r in history]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.tools.trainer_throughput", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("preset")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--json", help="write the result here")
    args = parser.parse_args(argv)
    result = {"command": "python -m lookimagine.tools.trainer_throughput "
                         + " ".join(argv if argv is not None else sys.argv[1:]),
              **measure(args.preset, args.set, args.epochs)}
    print(json.dumps({k: v for k, v in result.items() if k != "train"}, indent=1))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
