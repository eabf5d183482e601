"""Train GXN, an ablation or the baseline from a preset.

    python -m lookimagine.train --preset emoji-gxn --seed 0 --out runs/emoji-gxn-s0
    python -m lookimagine.train --preset emoji-baseline --seed 0 --out runs/emoji-baseline-s0

Re-running the same command after an interruption resumes from ``<out>/last``.
Presets: ``python -m lookimagine.train --list``.

The full tier (GXN over open_clip towers, Karpathy splits) runs the same trainer under ``accelerate``:

    accelerate launch --mixed_precision bf16 -m lookimagine.train --preset coco-clip-gxn \
        --data-json data/coco/dataset_coco.json --image-root data/coco/images --out runs/coco-clip-gxn

Under ``accelerate launch`` the accelerator is used automatically (``--accelerate`` forces it otherwise).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shlex
import sys

LAUNCHED = "ACCELERATE_MIXED_PRECISION"  # set by ``accelerate launch`` in every process it starts
PROG = "python -m lookimagine.train"
SUMMARY = ("preset", "seed", "best_epoch", "best_val_rsum", "wall_seconds", "samples_per_second", "peak_memory_mb")


def build_parser() -> argparse.ArgumentParser:
    from ..models.checkpoint import DEVICES

    parser = argparse.ArgumentParser(prog=PROG, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", help="e.g. emoji-gxn, shapes-baseline, tiny-gxn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="run folder (default runs/<preset>-s<seed>)")
    parser.add_argument("--epochs", type=int, help="override the preset's number of epochs")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto (default): CUDA, then MPS, then CPU")
    parser.add_argument("--threads", type=int, help="torch threads (default: torch's choice)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a TrainConfig or ModelConfig field, e.g. --set w_caption=0.5 "
                             "or --set similarity=order (repeatable)")
    parser.add_argument("--data-json", help="karpathy: the Karpathy split JSON (dataset_coco.json, ...)")
    parser.add_argument("--image-root", help="karpathy: the folder holding the images")
    parser.add_argument("--grad-accum", type=int, help="micro-batches per optimiser step (needs accelerate)")
    parser.add_argument("--accelerate", action="store_true",
                        help="train under an accelerate.Accelerator (automatic under `accelerate launch`)")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--list", action="store_true", help="list the presets and exit")
    return parser


def parse_value(value: str):
    """A ``--set`` value: JSON where it parses (numbers, lists, true/false), None for "" or None, else the word."""
    if value in ("", "None"):
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def configs(preset, args, parser: argparse.ArgumentParser):
    """(TrainConfig, ModelConfig): the preset's, with the flags and ``--set`` overrides applied."""
    overrides: dict = {"seed": args.seed}
    for flag, name in ((args.epochs, "epochs"), (args.threads, "num_threads"), (args.data_json, "data_json"),
                       (args.image_root, "image_root"), (args.grad_accum, "grad_accum")):
        if flag is not None:
            overrides[name] = flag
    pairs = (item.partition("=") for item in args.set)
    try:
        train, model = split_overrides(preset, {key: parse_value(value) for key, _, value in pairs})
    except ValueError as e:
        parser.error(f"--set: {e}")
    return dataclasses.replace(preset.train, **overrides, **train), dataclasses.replace(preset.model, **model)


def split_overrides(preset, changes: dict) -> tuple[dict, dict]:
    """``{field: value}`` → (TrainConfig changes, ModelConfig changes); an unknown field is a ``ValueError``."""
    train_fields = {f.name for f in dataclasses.fields(preset.train)}
    model_fields = {f.name for f in dataclasses.fields(preset.model)}
    train, model = {}, {}
    for key, value in changes.items():
        if key in train_fields:
            train[key] = value
        elif key in model_fields:
            model[key] = tuple(value) if isinstance(value, list) else value
        else:
            raise ValueError(f"{key!r} is neither a TrainConfig nor a ModelConfig field")
    return train, model


def main(argv: list[str] | None = None) -> int:
    from ..config import PRESETS, get_preset

    parser = build_parser()
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
    train_cfg, model_cfg = configs(preset, args, parser)
    return train(preset.name, model_cfg, train_cfg, args, sys.argv[1:] if argv is None else argv)


def train(preset: str, model_cfg, train_cfg, args: argparse.Namespace, used: list[str]) -> int:
    """Build the trainer (under accelerate when launched by it or asked to) and fit; print the run's summary."""
    from ..models.checkpoint import CheckpointError, pick_device
    from .trainer import Trainer, make_accelerator

    device = pick_device(args.device)
    accelerator = None
    if args.accelerate or LAUNCHED in os.environ or train_cfg.grad_accum > 1:
        accelerator = make_accelerator(train_cfg, cpu=device.type == "cpu" and args.device != "auto")
    try:
        trainer = Trainer(model_cfg, train_cfg, args.out or f"runs/{preset}-s{args.seed}", device=device,
                          preset=preset, progress=not args.no_progress, command=f"{PROG} {shlex.join(used)}",
                          accelerator=accelerator)
    except (CheckpointError, FileNotFoundError, ValueError) as e:  # missing weights or data: one sentence
        print(f"error: {e}", file=sys.stderr)
        return 2
    meta = trainer.fit()
    if accelerator is not None and not accelerator.is_main_process:
        return 0
    print(json.dumps({k: meta[k] for k in SUMMARY}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
