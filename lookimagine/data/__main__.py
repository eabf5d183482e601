"""Look at datasets from the command line.

    python -m lookimagine.data preview --dataset emoji --split test --n 64 --out sheet.png
    python -m lookimagine.data preview --dataset shapes --split test-heldout --out shapes.png
    python -m lookimagine.data preview --dataset folder --root DIR --out gallery.png
    python -m lookimagine.data preview --dataset karpathy --json dataset_coco.json --images DIR --out coco.png
    python -m lookimagine.data preview --dataset emoji --split test --styles twemoji --out twemoji.png
    python -m lookimagine.data preview --dataset emoji --split test-style --out noto.png
    python -m lookimagine.data stats --dataset emoji [--rebuild]
    python -m lookimagine.data stats --dataset emoji --styles openmoji,twemoji,fluent
    python -m lookimagine.data fetch-styles [--styles twemoji,fluent]
    python -m lookimagine.data ship-gallery [--styles twemoji,fluent] [--out assets/galleries/emoji]
    python -m lookimagine.data stats --dataset shapes

``preview`` writes a contact sheet (``lookimagine.data.preview``); ``stats``
prints, as JSON, the size of every split and how fast items load
(``items_per_s`` over the first ``--timing-n`` items of each split); for emoji
it adds the skip counts and, with ``--rebuild``, the time to render the whole
set and rewrite its cache; with ``--styles`` it also counts every split per style
(``by_style``). ``fetch-styles`` fetches (``npm pack``, checksum-checked) and renders the
extra emoji styles once, and renders the held-out Noto test-style split when the font is
installed. ``ship-gallery`` writes the test split of the npm styles (rendered from the cache,
fetched first if need be) into ``assets/galleries/emoji`` as PNG atlases with JSON indexes, the
demo's gallery without npm (``emoji_styles``, "Shipped gallery"). Every dataset is opened through
``load_dataset``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import DATASETS, load_dataset
from .preview import contact_sheet

SPLITS = {
    "emoji": ("train", "val", "test", "test-style"),
    "shapes": ("train", "val", "test", "test-heldout"),
    "karpathy": ("train", "val", "test"),
    "folder": ("all",),
}


def _dataset_kwargs(args: argparse.Namespace) -> dict:
    """The keyword arguments ``load_dataset`` takes for ``args.dataset``; clear errors for missing paths."""
    if args.dataset == "folder":
        if not args.root:
            raise SystemExit("--dataset folder needs --root DIR")
        return {"root": args.root} if args.image_size is None else {"root": args.root, "image_size": args.image_size}
    if args.dataset == "karpathy":
        if not (args.json and args.images):
            raise SystemExit("--dataset karpathy needs --json FILE and --images DIR")
        return {"json_path": args.json, "image_root": args.images}
    kwargs = {}
    if args.image_size is not None:
        kwargs["image_size"] = args.image_size
    if args.dataset == "shapes" and args.data_seed is not None:
        kwargs["seed"] = args.data_seed
    if getattr(args, "styles", None):
        if args.dataset != "emoji":
            raise SystemExit("--styles is for --dataset emoji only")
        kwargs["styles"] = tuple(s for s in args.styles.split(",") if s)
    return kwargs


def preview(args: argparse.Namespace) -> dict:
    dataset = load_dataset(args.dataset, args.split, **_dataset_kwargs(args))
    sheet = contact_sheet(dataset, n=args.n, columns=args.columns, seed=args.seed, thumb=args.thumb)
    sheet.save(args.out)
    return {"out": args.out, "width": sheet.width, "height": sheet.height, "items": min(args.n, len(dataset))}


def stats(args: argparse.Namespace) -> dict:
    kwargs = _dataset_kwargs(args)
    report: dict = {"dataset": args.dataset, "splits": {}}
    if args.dataset == "emoji":
        report["by_style"] = {}
    if args.dataset == "emoji" and args.rebuild:
        from .emoji_set import rebuild_cache

        meta, seconds = rebuild_cache(kwargs.get("image_size", 64))
        n = len(meta["ids"])
        report["render"] = {"images": n, "seconds": round(seconds, 2),
                            "images_per_s": round(n / seconds, 1), "layout": meta["layout"]}
    for split in SPLITS[args.dataset]:
        start = time.perf_counter()
        try:
            dataset = load_dataset(args.dataset, split, **kwargs)
        except FileNotFoundError as err:
            if split != "test-style":
                raise
            report["splits"][split] = {"n": 0, "error": str(err)}  # no Noto font here: the other splits still count
            continue
        open_s = time.perf_counter() - start
        k = min(args.timing_n, len(dataset))
        start = time.perf_counter()
        for i in range(k):
            dataset[i]
        item_s = time.perf_counter() - start
        report["splits"][split] = {
            "n": len(dataset),
            "open_s": round(open_s, 3),
            "items_per_s": round(k / item_s, 1) if k and item_s > 0 else None,
        }
        if args.dataset == "emoji":
            for i in range(len(dataset)):
                counts = report["by_style"].setdefault(dataset.style_of(i), {})
                counts[split] = counts.get(split, 0) + 1
            report["skipped_by_style"] = {**report.get("skipped_by_style", {}), **dataset.skipped_by_style}
            if split == "test-style":
                continue  # the Noto font's skips are in skipped_by_style only
            report["skipped"] = {
                "unnamed": dataset.skipped_unnamed,
                "duplicate": dataset.skipped_duplicate,
                "not_single_glyph": dataset.skipped_not_single_glyph,
                "blank": dataset.skipped_blank,
            }
    report["total"] = sum(s["n"] for s in report["splits"].values())
    return report


def fetch_styles(args: argparse.Namespace) -> dict:
    """Fetch and render every extra emoji style (and the Noto test-style split when its font is there)."""
    from .cache import cache_dir
    from .emoji_set import EmojiDataset
    from .emoji_styles import NPM_STYLES, MissingToolError, parse_styles

    styles = parse_styles(args.styles) if args.styles else NPM_STYLES
    size = args.image_size or 64
    report: dict = {"cache": str(cache_dir()), "styles": {}}
    for style in [s for s in styles if s != "openmoji"]:
        start = time.perf_counter()
        dataset = EmojiDataset("all", image_size=size, styles=(style,))
        report["styles"][style] = {"images": len(dataset), "seconds": round(time.perf_counter() - start, 1),
                                   "skipped": dataset.skipped_by_style[style]}
    try:
        start = time.perf_counter()
        noto = EmojiDataset("test-style", image_size=size)
        report["styles"]["noto"] = {"images": len(noto), "seconds": round(time.perf_counter() - start, 1),
                                    "skipped": noto.skipped_by_style["noto"]}
    except MissingToolError as err:
        report["styles"]["noto"] = {"error": str(err)}
    return report


def ship_gallery(args: argparse.Namespace) -> dict:
    """Write the test renders of the npm styles into the shipped gallery folder; the files and their sizes."""
    import shlex
    from pathlib import Path

    from .cache import cache_dir
    from .emoji_styles import NPM_STYLES, SHIPPED_DIR, SHIPPED_SPLIT, load_style, parse_styles, write_shipped

    styles = [s for s in (parse_styles(args.styles) if args.styles else NPM_STYLES) if s in NPM_STYLES]
    size = args.image_size or 64
    out = Path(args.out) if args.out else SHIPPED_DIR
    command = "python -m lookimagine.data " + shlex.join(sys.argv[1:] if args.argv is None else args.argv)
    report: dict = {"out": str(out), "split": SHIPPED_SPLIT, "command": command, "styles": {}}
    for style in styles:
        images, meta = load_style(style, size, cache_dir().resolve())  # the full render, as training sees it
        if "shipped" in meta:
            raise RuntimeError(f"{style}: no full render in the cache to ship from")
        index = write_shipped(style, images, meta, out, command)
        png = out / index["atlas"]["file"]
        report["styles"][style] = {"images": index["atlas"]["n"], "sha256": index["sha256"],
                                   "png_bytes": png.stat().st_size,
                                   "json_bytes": png.with_suffix(".json").stat().st_size}
    return report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.data", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = (("preview", "write a contact sheet PNG"), ("stats", "print split sizes and timings as JSON"))
    for name, help_text in commands:
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--styles", default=None,
                       help="emoji: comma-separated artists, e.g. openmoji,twemoji,fluent (default: openmoji)")
        p.add_argument("--dataset", choices=DATASETS, required=True)
        p.add_argument("--image-size", type=int, default=None, help="image side in pixels (emoji/shapes default 64; folder: resize)")
        p.add_argument("--data-seed", type=int, default=None, help="shapes dataset seed (default 0)")
        p.add_argument("--root", help="folder dataset: the gallery folder")
        p.add_argument("--json", help="karpathy dataset: the Karpathy split JSON")
        p.add_argument("--images", help="karpathy dataset: the image folder")
    p = sub.choices["preview"]
    p.add_argument("--split", default="test")
    p.add_argument("--n", type=int, default=64, help="items on the sheet")
    p.add_argument("--columns", type=int, default=8)
    p.add_argument("--thumb", type=int, default=128, help="thumbnail side in pixels (cells are 40 px wider)")
    p.add_argument("--seed", type=int, default=0, help="which items are sampled")
    p.add_argument("--out", required=True, help="output PNG path")
    p = sub.choices["stats"]
    p.add_argument("--timing-n", type=int, default=500, help="items per split to time")
    p.add_argument("--rebuild", action="store_true", help="emoji: re-render everything and time it")
    p = sub.add_parser("fetch-styles", help="fetch (npm) and render the extra emoji styles once")
    p.add_argument("--styles", default=None, help="comma-separated; default: every npm style (twemoji,fluent)")
    p.add_argument("--image-size", type=int, default=None, help="image side in pixels (default 64)")
    p = sub.add_parser("ship-gallery", help="write the npm styles' test renders into assets/galleries/emoji")
    p.add_argument("--styles", default=None, help="comma-separated; default: every npm style (twemoji,fluent)")
    p.add_argument("--image-size", type=int, default=None, help="image side in pixels (default 64)")
    p.add_argument("--out", default=None, help="output folder (default: assets/galleries/emoji)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        commands = {"preview": preview, "stats": stats, "fetch-styles": fetch_styles, "ship-gallery": ship_gallery}
        result = commands[args.command](args)
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
