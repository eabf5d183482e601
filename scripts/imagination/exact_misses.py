"""Shapes: where exact R-precision is lost, for real pictures, a perfect sampler and GAN runs (issue 21).

Exact R-precision asks the judge to rank the very caption a picture was drawn from above 99 others; truth-aware
R-precision is content when the top caption is any caption true of the source scene. A picture can therefore
miss the exact protocol in two ways: the judge prefers *another caption that is also true* of the scene, or a
*false* one. This splits every query's outcome into exact hit / another true caption / a false caption, by the
type of the true caption (existence, attributes, counts, conjunctions, relations: ``data.shapes.caption_type``),
and says what the winning true captions are, on the very pools of ``tools.imagination`` (same seed, same
candidates, the first caption of each of the first n images, one sample each from seed 0).

    python scripts/imagination/exact_misses.py --runs runs/final/shapes-s1/gxn runs/longgan60/shapes-s1/gxn \\
        --judge runs/stage1/shapes-s2 --split val --out assets/results/imagination/exact_misses_shapes.json

``--best-of 1 8``: every run drawn with each of those samplers (``ModelConfig.imagine_best_of``: the best of k
drawings by the run's own s*), named "<run>, best of <k>"; without it, with each run's own setting.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from lookimagine.config import TrainConfig, from_dict  # noqa: E402
from lookimagine.data.batching import encode_split  # noqa: E402
from lookimagine.data.shapes import CAPTION_TYPES, COLOURS, PLURALS, SHAPES, caption_type  # noqa: E402
from lookimagine.evaluation.embedding import embed_images  # noqa: E402
from lookimagine.evaluation.evaluate_checkpoint import resolve_checkpoint  # noqa: E402
from lookimagine.evaluation.image_metrics import sample_r_precision_candidates  # noqa: E402
from lookimagine.evaluation.imagination import first_captions, imagine, judge_text  # noqa: E402
from lookimagine.evaluation.retrieval import caption_keys  # noqa: E402
from lookimagine.models.checkpoint import load_checkpoint  # noqa: E402
from lookimagine.tools.imagination import _split, load_with_sampler, perfect_sampler  # noqa: E402

OUTCOMES = ("exact", "another true caption", "a false caption")


def outcomes(scores: np.ndarray, pools: np.ndarray, truth_rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """scores (n, M), pools (n, 100) with the true caption in column 0, truth_rows (n, M) bool (caption true of
    the source scene) → (outcome index per query: 0 exact, 1 another true caption, 2 a false caption; the
    winning caption's index). Ties count against the true caption, as in ``r_precision``."""
    s = np.take_along_axis(scores, pools, axis=1)
    beaten = s[:, 1:].max(axis=1) >= s[:, 0]
    winner = np.where(beaten, pools[np.arange(len(pools)), 1 + s[:, 1:].argmax(axis=1)], pools[:, 0])
    true_winner = truth_rows[np.arange(len(pools)), winner]
    return np.where(~beaten, 0, np.where(true_winner, 1, 2)), winner


def breakdown(kind: np.ndarray, winner: np.ndarray, first: np.ndarray, captions: list[str]) -> dict:
    """Shares of each outcome, overall and by the true caption's type, and the winning true captions' types."""
    types = np.array([caption_type(captions[r]) for r in first])
    out = {"n": int(len(kind)), **{o: float(np.mean(kind == i) * 100) for i, o in enumerate(OUTCOMES)},
           "by_type": {}}
    for t in CAPTION_TYPES:
        m = types == t
        if m.any():
            out["by_type"][t] = {"n": int(m.sum()),
                                 **{o: float(np.mean(kind[m] == i) * 100) for i, o in enumerate(OUTCOMES)}}
    other = Counter(f"{caption_type(captions[r])} → {caption_type(captions[w])}"
                    for r, w, k in zip(first, winner, kind) if k == 1)
    out["another_true_caption_by_type"] = dict(other.most_common())
    false = [(captions[r], captions[w]) for r, w, k in zip(first, winner, kind) if k == 2]
    if false:
        # what a false winner keeps of the true caption: its colour words, its shape words (as sets)
        same = {"colours": lambda t, w: _words(w, COLOURS) <= _words(t, COLOURS),
                "shapes": lambda t, w: _words(w, SHAPES) <= _words(t, SHAPES)}
        out["false_caption_keeps"] = {k: float(np.mean([f(t, w) for t, w in false]) * 100) for k, f in same.items()}
    return out


_SINGULAR = {plural: noun for noun, plural in PLURALS.items()}


def _words(caption: str, vocabulary) -> set[str]:
    """The words of ``vocabulary`` in a caption, plural shape nouns read as their singular."""
    return {_SINGULAR.get(w, w) for w in caption.split()} & set(vocabulary)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--judge", required=True)
    p.add_argument("--split", default="val")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", required=True)
    p.add_argument("--best-of", type=int, nargs="+", help="draw every run with each of these k (imagine_best_of)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    judge, judge_vocab, judge_config = load_checkpoint(resolve_checkpoint(a.judge))
    ds = _split("shapes", from_dict(TrainConfig, judge_config["train"]), a.split)
    split = encode_split(ds, judge_vocab, image_size=64, max_len=20)
    n = min(a.n, len(ds))
    first, owner = first_captions(split, n)
    truth = ds.truth_matrix()[:n]
    pools = sample_r_precision_candidates(first, len(split.captions), 100, 0, owner, caption_keys(split.captions))
    txt = judge_text(judge, judge_vocab, split.captions)
    rng = np.random.default_rng(0)  # as tools.imagination draws the perfect sampler's scenes
    pictures = {"real pictures": split.images[:n],
                "a perfect sampler": perfect_sampler(ds, [split.captions[r] for r in first], rng)[0]}
    for run in a.runs:
        for k in a.best_of or [None]:
            model, vocab, _ = load_with_sampler(run, k and {"imagine_best_of": k})  # its vocabulary reads the captions
            name = run if k is None else f"{run}, best of {k}"
            pictures[name] = imagine(model, encode_split(ds, vocab, image_size=64, max_len=20), first, seed=0)
    result = {"what": __doc__.split("\n")[0], "command": "python scripts/imagination/exact_misses.py "
              + " ".join(sys.argv[1:] if argv is None else argv), "split": a.split, "n_queries": n,
              "judge": str(resolve_checkpoint(a.judge)), "pictures": {}}
    for name, images in pictures.items():
        scores = judge.similarity(embed_images(judge, images, "cpu"), txt).cpu().numpy()
        kind, winner = outcomes(scores, pools, truth)
        result["pictures"][name] = breakdown(kind, winner, first, split.captions)
    Path(a.out).write_text(json.dumps(result, indent=1) + "\n")
    for name, b in result["pictures"].items():
        print(f"{name}: " + ", ".join(f"{o} {b[o]:.1f}%" for o in OUTCOMES))
        if "false_caption_keeps" in b:
            print("    a false winner keeps the true caption's " + ", ".join(
                f"{k} {v:.0f}%" for k, v in b["false_caption_keeps"].items()))
        for t, v in b["by_type"].items():
            print(f"    {t:13s} n={v['n']:4d}  " + "  ".join(f"{v[o]:5.1f}" for o in OUTCOMES))


if __name__ == "__main__":
    main()
