"""Framing, measured: how the shipped emoji models score pictures framed as visitors frame them.

    python -m lookimagine.tools.framing --out assets/results/framing/emoji.json

1. The training framing: the median longer side of the content box of the emoji val renders (the training
   styles, 64 px), as a fraction of the frame (``data.framing.TRAINING_SPAN`` is this figure).
2. The wild splits (``data.framing.wild_frame``, seed ``--seed``; picture i drawn from
   ``numpy.random.default_rng([seed, i])``), both drawn by Noto Color Emoji, the artist no model trains on:
   ``val-wild``, the val code points; ``test-style-wild``, the test code points of the held-out ``test-style``
   split. ``test-style`` as it is (Noto in the training framing) for reference.
3. R@1 both ways for the shipped emoji baseline and GXN on each split, with the pictures as they are and
   through ``normalise_framing``: the choice between them is made on ``val-wild`` only; test is reported.
Equal names count as ground truth (``caption_keys``), as the evaluation does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
TRAINING_STYLES = ("openmoji", "twemoji", "fluent")


def training_span(size: int = 64) -> dict:
    """The training renders' content span (longer side of the content box / frame) over the val split."""
    from ..data.emoji_set import EmojiDataset
    from ..data.framing import content_box

    data = EmojiDataset("val", image_size=size, styles=TRAINING_STYLES)
    spans = []
    for pixels in data.images:
        box = content_box(pixels)
        if box is not None:
            spans.append(max(box[2] - box[0], box[3] - box[1]) / size)
    return {"median": round(float(np.median(spans)), 3), "p10": round(float(np.percentile(spans, 10)), 3),
            "p90": round(float(np.percentile(spans, 90)), 3), "n": len(spans)}


def noto_glyphs(split: str) -> tuple[list[Image.Image], list[str]]:
    """Noto Color Emoji's drawings of the code points of ``split`` ("val" or "test") on a transparent ground
    (``emoji_styles.noto_glyphs``, before ``render_noto`` puts them on white), and their names."""
    from ..data.emoji_styles import noto_glyphs as draw

    drawn = list(draw(split))
    return [glyph for _, _, glyph in drawn], [name for _, name, _ in drawn]


def wild_split(split: str, seed: int, size: int = 64) -> tuple[list[Image.Image], list[str]]:
    """The pictures and names of ``test-style`` (Noto, the training framing) or of a wild split: Noto's
    drawings of the val (``val-wild``) or test (``test-style-wild``) code points through ``wild_frame``."""
    from ..data.emoji_set import EmojiDataset
    from ..data.framing import wild_frame

    if split in ("val", "test", "test-style"):  # as they are: the training styles' renders, or Noto's
        data = EmojiDataset(split, image_size=size, styles=None if split == "test-style" else TRAINING_STYLES)
        return [Image.fromarray(p) for p in data.images], [data.captions_of(i)[0] for i in range(len(data))]
    glyphs, names = noto_glyphs({"val-wild": "val", "test-style-wild": "test"}[split])
    return [wild_frame(g, np.random.default_rng([seed, i]), size) for i, g in enumerate(glyphs)], names


def recall_at_1(loaded, pictures: list[Image.Image], names: list[str]) -> dict:
    """R@1 image→text and text→image of one loaded model on (picture i, name i) pairs, equal names grouped."""
    import torch

    from ..evaluation.retrieval import caption_keys, image_to_text, text_to_image
    from ..models.checkpoint import encode_captions

    model = loaded.model.eval()
    with torch.no_grad():
        img = [model.encode_image(loaded.preprocess(pictures[s:s + 256])) for s in range(0, len(pictures), 256)]
        tokens, lengths = encode_captions(loaded.vocab, names, loaded.max_len)
        txt = model.encode_text(tokens, lengths)
        v_h, v_l = torch.cat([e.v_h for e in img]), torch.cat([e.v_l for e in img])
        sims = model.similarity(type(img[0])(v_h, v_l), txt).float().numpy()
    owner, keys = np.arange(len(names)), caption_keys(names)
    return {"i2t": round(image_to_text(sims, owner, keys).r1, 2), "t2i": round(text_to_image(sims, owner, keys).r1, 2)}


SHIPPED = {m: f"assets/checkpoints/emoji/{m}" for m in ("baseline", "gxn")}  # relative to the project root
SPLITS = ("val-wild", "test-style", "test-style-wild")


def measure(seed: int, checkpoints: dict[str, str] | None = None, splits: tuple[str, ...] = SPLITS) -> dict:
    """{split: {"n", "as_is": {name: R@1}, "normalised": {name: R@1}}} for each checkpoint (default: shipped)."""
    import torch

    from ..data.framing import normalise_framing
    from ..models.checkpoint import load_model

    torch.set_num_threads(1)
    models = {name: load_model(path if Path(path).exists() else ROOT / path, "cpu")
              for name, path in (checkpoints or SHIPPED).items()}
    size = next(iter(models.values())).model_config.image_size
    results = {}
    for split in splits:
        start = time.perf_counter()
        pictures, names = wild_split(split, seed, size)
        prepared = {"as_is": pictures, "normalised": [normalise_framing(p, size) for p in pictures]}
        results[split] = {"n": len(pictures), **{
            how: {m: recall_at_1(loaded, images, names) for m, loaded in models.items()}
            for how, images in prepared.items()}}
        print(f"{split}: {json.dumps(results[split])} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    return results


def trained_by(checkpoints: dict[str, str]) -> dict[str, str]:
    """{name: the training command} for each checkpoint whose run folder kept its ``run.json``."""
    out = {}
    for name, path in checkpoints.items():
        for meta in (Path(path) / "run.json", Path(path).parent / "run.json"):
            if meta.is_file():
                out[name] = json.loads(meta.read_text())["command"]
                break
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "assets" / "results" / "framing" / "emoji.json"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", action="append", metavar="NAME=PATH",
                        help="a checkpoint to measure (repeatable); default: the shipped baseline and GXN")
    parser.add_argument("--splits", nargs="+", default=list(SPLITS),
                        choices=("val", "val-wild", "test", "test-style", "test-style-wild"))
    args = parser.parse_args(argv)
    checkpoints = dict(c.split("=", 1) for c in args.checkpoint) if args.checkpoint else None
    report = {"command": "python -m lookimagine.tools.framing " + " ".join(argv if argv is not None else sys.argv[1:]),
              "seed": args.seed, "training_span": training_span(), "checkpoints": checkpoints or SHIPPED,
              "trained_by": trained_by(checkpoints or SHIPPED),
              "r1": measure(args.seed, checkpoints, tuple(args.splits))}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
