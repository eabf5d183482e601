"""Evaluate a trained run or checkpoint on a split and write the results JSON.

    python -m lookimagine.evaluate runs/emoji-gxn-s0 --split test --json out.json \\
        --judge runs/emoji-baseline-s1

``--judge`` names a separately trained checkpoint (a baseline of another seed)
that scores generated images for R-precision; without it, images are not scored.

    python -m lookimagine.evaluate zero-shot --gallery-folder DIR --json zs.json

evaluates the full tier's zero-shot mode (pretrained CLIP + captioner +
diffusion, no checkpoint) with a sweep of the fusion weight; its options are
in ``python -m lookimagine.evaluate zero-shot --help`` (``lookimagine.full.evaluate_zero_shot``).

COCO (Karpathy test split, 5,000 images, 25,000 captions) has two protocols (paper Table 1):

    python -m lookimagine.evaluate runs/coco-clip-gxn --protocol coco1k --json coco1k.json  # 5 folds of 1K, mean
    python -m lookimagine.evaluate runs/coco-clip-gxn --protocol coco5k --json coco5k.json  # all 5K at once

``--data-json`` / ``--image-root`` say where the Karpathy data is when it moved since training.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path


PROTOCOLS = {"coco1k": 1000, "coco5k": None}  # fold size of each COCO protocol


def main(argv: list[str] | None = None) -> int:
    args_given = sys.argv[1:] if argv is None else list(argv)
    if args_given[:1] == ["zero-shot"]:  # the full tier's zero-shot mode: models by name, no checkpoint
        from .full.evaluate_zero_shot import main as zero_shot_main

        return zero_shot_main(args_given[1:], "python -m lookimagine.evaluate " + shlex.join(args_given))
    from .models.checkpoint import DEVICES, CheckpointError, pick_device

    parser = argparse.ArgumentParser(prog="python -m lookimagine.evaluate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", help="a run folder (uses its best/) or a checkpoint folder")
    parser.add_argument("--split", default="test", help="test (default), val, test-heldout (shapes)")
    parser.add_argument("--json", dest="json_path", help="write the results here")
    parser.add_argument("--judge", help="independent checkpoint that scores generated images (R-precision)")
    parser.add_argument("--beam", type=int, default=1, help="beam size for captions (1 = greedy)")
    parser.add_argument("--seed", type=int, default=0, help="seed for generated images and R-precision draws")
    parser.add_argument("--folds", type=int, help="fold size for the COCO 1K protocol (e.g. 1000)")
    parser.add_argument("--protocol", choices=tuple(PROTOCOLS),
                        help="coco1k: the 5K test images in 5 folds of 1,000, metrics averaged; coco5k: all at once")
    parser.add_argument("--data-json", help="karpathy: the Karpathy split JSON here (default: the training one)")
    parser.add_argument("--image-root", help="karpathy: the image folder here (default: the training one)")
    parser.add_argument("--device", choices=DEVICES, default="auto", help="auto (default): CUDA, then MPS, then CPU")
    args = parser.parse_args(argv)
    if args.protocol and args.folds:
        parser.error("--protocol and --folds are exclusive")
    folds = PROTOCOLS[args.protocol] if args.protocol else args.folds
    data_paths = {k: v for k, v in (("data_json", args.data_json), ("image_root", args.image_root)) if v}

    from .evaluation.evaluate_checkpoint import evaluate_checkpoint

    argv_used = sys.argv[1:] if argv is None else argv
    command = "python -m lookimagine.evaluate " + " ".join(shlex.quote(a) for a in argv_used)
    try:
        result = evaluate_checkpoint(args.checkpoint, args.split, args.judge, pick_device(args.device), args.beam,
                                     args.seed, folds, command, data_paths=data_paths)
    except (CheckpointError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    r = result["retrieval"]
    summary = {"image_to_text": {k: r["image_to_text"][k] for k in ("r1", "r5", "r10", "median_rank")},
               "text_to_image": {k: r["text_to_image"][k] for k in ("r1", "r5", "r10", "median_rank")},
               "rsum": r["rsum"]}
    if "captioning" in result:
        summary["captioning"] = {k: result["captioning"][k] for k in ("bleu4", "cider_d")}
    if "image_generation" in result:
        summary["image_generation"] = {k: result["image_generation"][k]
                                       for k in ("r_precision", "r_precision_real_images")}
    print(json.dumps(summary, indent=1))
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
