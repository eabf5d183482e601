"""What the shipped pipelines answer, as JSON: the check that a refactoring changed nothing a visitor sees.

    python -m lookimagine.tools.fingerprint --out assets/results/benchmarks/pipeline_fingerprint.json
    python -m lookimagine.tools.fingerprint --check assets/results/benchmarks/pipeline_fingerprint.json

For each shipped pocket pipeline (shapes, emoji) it runs ``--n`` gallery captions and ``--n`` gallery
pictures (spread over the test split, as ``examples`` picks them) through both models with a fixed seed,
and records every ranking (ids and scores to 4 decimals), the ground-truth ranks, the imagined captions,
and each imagined picture as a 4×4 thumbnail of its mean pixel values (48 integers). ``--check`` runs the same
queries and exits 1 naming the first difference. CPU, fp32, one thread: captions are exact; a ranking's scores
may differ by one unit of their 4th decimal and its ties may break the other way (``same_ranking``: three emoji
queries did so on a second machine); a picture may differ by ``PIXEL_TOLERANCE`` levels in its thumbnail,
since another CPU's float rounding moves a few pixels by one level (a hash of the pixels failed on a second
machine) and a sampler's 20 steps carry it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ("shapes", "emoji")
PIXEL_TOLERANCE = 3  # levels of 255, per thumbnail value
SCORE_TOLERANCE = 1.5e-4  # a ranking's scores are recorded to 4 decimals


def thumbnail(picture) -> list[int]:
    """A picture (H, W, 3) as the rounded mean of each channel over a 4×4 grid: 48 integers."""
    import numpy as np

    a = np.asarray(picture, dtype=np.float64)
    h, w = a.shape[0] // 4, a.shape[1] // 4
    return np.rint(a[:4 * h, :4 * w].reshape(4, h, 4, w, -1).mean(axis=(1, 3))).astype(int).ravel().tolist()


def same_ranking(ra: list, rb: list) -> bool:
    """Two rankings [[id, score to 4 decimals], ...] agree: each place's score within ``SCORE_TOLERANCE`` (one
    unit of the 4th decimal: another CPU's last-bit rounding can cross a rounding boundary, 0.6949 → 0.6948),
    and a place's id differs only where both record the same score there: a tie, broken the other way by that
    rounding (one emoji drawn alike in two styles; an image query shows one row of a caption text that two
    styles share, and which row shows is such a tie)."""
    if len(ra) != len(rb) or any(abs(sa - sb) > SCORE_TOLERANCE for (_, sa), (_, sb) in zip(ra, rb)):
        return False
    return all(ia == ib or sa == sb for (ia, sa), (ib, sb) in zip(ra, rb))


def same_answer(a: dict, b: dict | None) -> bool:
    """One model's answer: everything exact but the pictures, which agree within ``PIXEL_TOLERANCE``, and the
    ranking (``same_ranking``)."""
    rest = lambda d: {k: v for k, v in d.items() if k not in ("pictures", "ranking")}  # noqa: E731
    if b is None or rest(a) != rest(b) or not same_ranking(a.get("ranking", []), b.get("ranking", [])):
        return False
    pa, pb = a.get("pictures", []), b.get("pictures", [])
    return len(pa) == len(pb) and all(
        len(x) == len(y) and max((abs(i - j) for i, j in zip(x, y)), default=0) <= PIXEL_TOLERANCE
        for x, y in zip(pa, pb))


def fingerprint(dataset: str, n: int, assets: Path = ROOT / "assets") -> dict:
    """The answers of the shipped ``dataset`` pipeline to ``n`` text and ``n`` image queries."""
    import numpy as np
    import torch

    from ..pipeline import LookImagineMatch

    torch.set_num_threads(1)
    pipeline = LookImagineMatch.from_pretrained(assets / "checkpoints" / dataset, device="cpu", progress=False)
    queries = [*pipeline.examples("text_to_image", n), *pipeline.examples("image_to_text", n)]
    answers = []
    for query in queries:
        result = pipeline.run(query, k=10, seed=0, n_images=2)
        row = {"query": query if isinstance(query, str) else "image:" + hashlib.sha256(query.tobytes()).hexdigest()}
        for r in (result.baseline, result.gxn):
            row[r.model] = {
                "ranking": [[it.id, round(it.score, 4)] for it in r.ranking],
                "ground_truth_rank": r.ground_truth_rank,
                "caption": r.imagined.caption,
                "pictures": [thumbnail(im) for im in r.imagined.images],
            }
        answers.append(row)
    return {"dataset": dataset, "queries": len(answers), "answers": answers}


def first_difference(recorded: dict, now: dict) -> str | None:
    """Where two fingerprints of one dataset first differ, in words (None: identical)."""
    for i, (a, b) in enumerate(zip(recorded["answers"], now["answers"])):
        for key in a:
            same = a[key] == b.get(key) if key == "query" else same_answer(a[key], b.get(key))
            if not same:
                return f"{recorded['dataset']} query {i} ({a['query'][:60]!r}): {key} differs"
    if recorded["queries"] != now["queries"]:
        return f"{recorded['dataset']}: {recorded['queries']} queries recorded, {now['queries']} now"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--out", help="write the fingerprint JSON here")
    what.add_argument("--check", help="compare with this recorded fingerprint; exit 1 on a difference")
    parser.add_argument("--n", type=int, default=20, help="text queries and image queries per dataset (default 20)")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    args = parser.parse_args(argv)
    os.environ.setdefault("LOOKIMAGINE_CACHE", tempfile.mkdtemp(prefix="lookimagine-fingerprint-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    datasets = [d for d in args.datasets.split(",") if d]
    now = {d: fingerprint(d, args.n) for d in datasets}
    if args.out:
        command = "python -m lookimagine.tools.fingerprint " + " ".join(argv if argv is not None else sys.argv[1:])
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps({"command": command, "n": args.n, "datasets": now}, indent=1))
        print(f"wrote {args.out}: {sum(v['queries'] for v in now.values())} queries")
        return 0
    recorded = json.loads(Path(args.check).read_text())
    for d in datasets:
        diff = first_difference(recorded["datasets"][d], now[d]) if d in recorded["datasets"] else f"{d}: not recorded"
        if diff:
            print(f"DIFFERENT: {diff}")
            return 1
    print(f"identical: {', '.join(datasets)} ({sum(v['queries'] for v in now.values())} queries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
