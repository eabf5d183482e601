"""Train GXN, an ablation or the baseline from a preset.

    python -m lookimagine.train --preset emoji-gxn --seed 0 --out runs/emoji-gxn-s0
    python -m lookimagine.train --preset emoji-baseline --seed 0 --out runs/emoji-baseline-s0

Re-running the same command after an interruption resumes from ``<out>/last``.
Presets: ``python -m lookimagine.train --list``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shlex
import sys


def main(argv: list[str] | None = None) -> int:
    from .config import PRESETS, get_preset
    from .models.checkpoint import DEVICES, pick_device

    parser = argparse.ArgumentParser(prog="python -m lookimagine.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", help="e.g. emoji-gxn, shapes-baseline, tiny-gxn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="run folder (default runs/<preset>-s<seed>)")
    parser.add_argument("--epochs", type=int, help="override the preset's number of epochs")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto (default): CUDA, then MPS, then CPU")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a TrainConfig or ModelConfig field, e.g. --set w_caption=0.5 "
                             "or --set similarity=order (repeatable)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--list", action="store_true", help="list the presets and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, p in sorted(PRESETS.items()):
            print(f"{name:24s} {p.description}")
        return 0
    if not args.preset:
        parser.error("--preset is required (see --list)")
    try:
        preset = get_preset(args.preset)
    except ValueError as e:
        parser.error(str(e))
    overrides: dict = {"seed": args.seed}
    if args.epochs is not None:
        overrides["epochs"] = args.epochs
    if args.threads is not None:
        overrides["num_threads"] = args.threads
    train_fields = {f.name for f in dataclasses.fields(preset.train)}
    model_fields = {f.name for f in dataclasses.fields(preset.model)}
    model_overrides: dict = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            parsed = json.loads(value) if value not in ("", "None") else None
        except json.JSONDecodeError:
            parsed = value  # a bare word: a string
        if key in train_fields:
            overrides[key] = parsed
        elif key in model_fields:
            model_overrides[key] = tuple(parsed) if isinstance(parsed, list) else parsed
        else:
            parser.error(f"--set: {key!r} is neither a TrainConfig nor a ModelConfig field")
    train_cfg = dataclasses.replace(preset.train, **overrides)
    model_cfg = dataclasses.replace(preset.model, **model_overrides)
    out = args.out or f"runs/{preset.name}-s{args.seed}"

    from .training.trainer import Trainer

    used = sys.argv[1:] if argv is None else argv
    trainer = Trainer(model_cfg, train_cfg, out, device=pick_device(args.device), preset=preset.name,
                      progress=not args.no_progress, command="python -m lookimagine.train " + shlex.join(used))
    meta = trainer.fit()
    print(json.dumps({k: meta[k] for k in ("preset", "seed", "best_epoch", "best_val_rsum", "wall_seconds",
                                            "samples_per_second", "peak_memory_mb")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
