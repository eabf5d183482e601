"""Does imagining help CLIP on your gallery? The zero-shot mode's retrieval, swept over the fusion weight.

    python -m lookimagine.evaluate zero-shot --gallery-folder my-gallery --json zs.json
    python -m lookimagine.evaluate zero-shot --karpathy-json dataset_coco.json --image-root coco \\
        --split test --fold 0 --json coco1k-fold0-zs.json

Every image is captioned once (the captioner) and every caption drawn
``--samples`` times (the painter, seeded), then three (N images, M captions)
matrices are scored:

    look       cos(image, caption)                        CLIP alone
    captioned  cos(caption(image), caption)               text tower: image → text imagination
    painted    mean_i cos(picture_i(caption), image)      image tower: text → image imagination

and for each weight w, image→text R@1/5/10 of (1 − w)·look + w·captioned and
text→image R@1/5/10 of (1 − w)·look + w·painted (``fusion.fuse``); w = 0 is
the baseline, CLIP alone. Identical caption texts count as ground truth for
every image they describe (``retrieval.caption_keys``), as in the pocket
evaluation. Drawing dominates the cost: one picture per caption, e.g. 5,000
for a COCO 1K fold (``--max-images`` evaluates the first N images only).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..data.items import CaptionDataset
from ..evaluation.retrieval import caption_keys, image_to_text, text_to_image
from .fusion import caption_similarity, check_weight, fuse
from .options import ZeroShotConfig, add_model_arguments, config_from_args, picture_size

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
METRICS = ("r1", "r5", "r10", "median_rank")


class _Head(CaptionDataset):
    """The first ``n`` items of a dataset (``--max-images``)."""

    def __init__(self, dataset: CaptionDataset, n: int):
        self.base, self.n = dataset, min(n, len(dataset))
        self.name, self.split = dataset.name, dataset.split

    def __len__(self) -> int:
        return self.n

    def load_image(self, index: int):
        return self.base.load_image(index)

    def captions_of(self, index: int) -> tuple[str, ...]:
        return self.base.captions_of(index)

    def id_of(self, index: int) -> str:
        return self.base.id_of(index)


def imagine_gallery(towers, captioner, painter, gallery, samples: int = 1, seed: int = 0, batch: int = 16,
                    progress: bool = True) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Generated captions (N,), and the captioned and painted similarity matrices, both (N, M).

    Pictures for captions ``[s, s + batch)`` are drawn with seed ``seed + s``, so a run is repeatable.
    """
    n, m = gallery.n_images, gallery.n_captions
    generated: list[str] = []
    for s in tqdm(range(0, n, batch), desc="captioning", disable=not progress, file=sys.stderr, leave=False):
        generated += captioner.caption([gallery.image(i) for i in range(s, min(s + batch, n))])
    captioned = caption_similarity(towers.encode_texts(generated), gallery.texts)  # (N, M)
    painted = np.zeros((n, m), dtype=np.float32)
    for s in tqdm(range(0, m, batch), desc="drawing", disable=not progress, file=sys.stderr, leave=False):
        prompts = gallery.captions[s:s + batch]
        pictures = [p for per_prompt in painter.draw(prompts, n_images=samples, seed=seed + s) for p in per_prompt]
        sims = gallery.images @ towers.encode_images(pictures).T  # (N, len(prompts) * samples)
        painted[:, s:s + len(prompts)] = sims.reshape(n, len(prompts), samples).mean(-1)
    return generated, captioned, painted


def sweep(look: np.ndarray, captioned: np.ndarray, painted: np.ndarray, image_of_caption: np.ndarray,
          captions: list[str], weights=WEIGHTS) -> list[dict]:
    """Recalls of both directions at each fusion weight; all matrices (N, M)."""
    keys, rows = caption_keys(captions), []
    for w in weights:
        i2t = image_to_text(fuse(look, captioned, w), image_of_caption, keys)
        t2i = text_to_image(fuse(look, painted, w), image_of_caption, keys)
        rows.append({"weight": float(w),
                     "image_to_text": {k: getattr(i2t, k) for k in METRICS},
                     "text_to_image": {k: getattr(t2i, k) for k in METRICS},
                     "rsum": i2t.r1 + i2t.r5 + i2t.r10 + t2i.r1 + t2i.r5 + t2i.r10})
    return rows


def evaluate_zero_shot(config: ZeroShotConfig, dataset: CaptionDataset, weights=WEIGHTS, samples: int = 1,
                       seed: int = 0, batch: int = 16, device=None, progress: bool = True, command: str = "") -> dict:
    """Load the models, embed and imagine the gallery, and sweep the weight: the results JSON as a dict.

    ``models`` in the JSON records what was used: the open_clip weights file a folder held (None when
    ``clip_model`` is a folder, which brings its own), and the side the pictures were drawn at.
    """
    from .captioner import Captioner
    from .gallery import ClipGallery
    from .painter import Painter
    from .towers import ClipTowers

    weights = [check_weight(w) for w in weights]
    start = time.time()
    towers = ClipTowers.load(config.clip_model, config.clip_pretrained, device)
    captioner = Captioner.load(config.captioner, device)
    painter = Painter.load(config.painter, device, config.steps, config.guidance,
                           picture_size(config.size, towers.device.type))
    loaded = time.time()
    gallery = ClipGallery(dataset, towers, progress=progress)
    look = gallery.images @ gallery.texts.T  # (N, M)
    embedded = time.time()
    generated, captioned, painted = imagine_gallery(towers, captioner, painter, gallery, samples, seed, batch,
                                                    progress)
    rows = sweep(look, captioned, painted, gallery.image_of_caption, gallery.captions, weights)
    from ..evaluation.evaluate_checkpoint import code_version

    models = {"clip_model": config.clip_model, "clip_pretrained": towers.pretrained, "clip": towers.name,
              "captioner": config.captioner, "painter": config.painter, "steps": config.steps,
              "guidance": config.guidance}
    return {
        "command": command, "mode": "zero-shot", "code_version": code_version(),
        "dataset": dataset.name, "split": dataset.split, "n_images": gallery.n_images,
        "n_captions": gallery.n_captions, "models": models, "device": str(towers.device),
        "samples_per_caption": samples, "seed": seed, "picture_size": painter.picture_size,
        "sweep": rows,
        "best_weight": {d: max(rows, key=lambda r: (r[d]["r1"], -r["weight"]))["weight"]
                        for d in ("image_to_text", "text_to_image")},
        "caption_examples": [{"id": gallery.ids[i], "generated": generated[i],
                              "references": [gallery.captions[r] for r in gallery.captions_of_image[i]]}
                             for i in range(min(10, gallery.n_images))],
        "seconds": {"load": round(loaded - start, 2), "embed": round(embedded - loaded, 2),
                    "imagine": round(time.time() - embedded, 2)},
    }


def _dataset(args) -> CaptionDataset:
    from ..data import load_dataset

    if args.gallery_folder:
        data = load_dataset("folder", root=args.gallery_folder)
    else:
        data = load_dataset("karpathy", args.split, json_path=args.karpathy_json, image_root=args.image_root,
                            fold=args.fold)
    return _Head(data, args.max_images) if args.max_images else data


def _table(rows: list[dict]) -> str:
    lines = ["   w | i2t R@1  R@5  R@10 | t2i R@1  R@5  R@10"]
    for r in rows:
        a, b = r["image_to_text"], r["text_to_image"]
        lines.append(f"{r['weight']:4.2f} | {a['r1']:7.1f} {a['r5']:4.1f} {a['r10']:5.1f} | "
                     f"{b['r1']:7.1f} {b['r5']:4.1f} {b['r10']:5.1f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, command: str | None = None) -> int:
    from ..models.checkpoint import DEVICES, CheckpointError, pick_device

    parser = argparse.ArgumentParser(prog="python -m lookimagine.evaluate zero-shot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--gallery-folder", metavar="DIR", help="a folder of images + captions.jsonl")
    source.add_argument("--karpathy-json", metavar="FILE", help="dataset_coco.json or dataset_flickr30k.json")
    parser.add_argument("--image-root", metavar="DIR", help="the Karpathy images' folder")
    parser.add_argument("--split", default="test", choices=("train", "val", "test"), help="Karpathy split")
    parser.add_argument("--fold", type=int, help="a COCO 1K test fold, 0..4")
    parser.add_argument("--max-images", type=int, metavar="N", help="only the first N images (and their captions)")
    parser.add_argument("--weights", type=float, nargs="+", default=list(WEIGHTS), metavar="W",
                        help="fusion weights to sweep (default 0 0.1 ... 0.5; 0 = CLIP alone)")
    parser.add_argument("--samples", type=int, default=1, help="pictures drawn per caption (default 1)")
    parser.add_argument("--size", type=int, dest="picture_size", help="the same as --picture-size")
    parser.add_argument("--batch", type=int, default=16, help="images captioned / captions drawn per batch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--json", dest="json_path", help="write the results here")
    add_model_arguments(parser, weight=False)
    args = parser.parse_args(argv)
    if args.karpathy_json and not args.image_root:
        parser.error("--karpathy-json needs --image-root")
    if command is None:
        command = "python -m lookimagine.evaluate zero-shot " + " ".join(shlex.quote(a) for a in (argv or []))
    try:
        result = evaluate_zero_shot(config_from_args(args), _dataset(args), args.weights, args.samples, args.seed,
                                    args.batch, pick_device(args.device), command=command)
    except (CheckpointError, FileNotFoundError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(_table(result["sweep"]))
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(result, indent=1))
    return 0
