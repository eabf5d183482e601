"""Recall@K and rank metrics for image↔text retrieval.

The protocol is the one of VSE / VSE++ (Faghri et al., 2018,
``fartashf/vsepp/evaluation.py``) that the GXN paper (Tables 1–2) reports:

* a similarity matrix ``sims`` of shape ``(N_images, M_captions)``, higher is
  better, and ``image_of_caption`` of shape ``(M,)`` giving each caption's image;
* **image → text**: an image query is correct at K when *any* of its
  ground-truth captions (5 per image on COCO/Flickr30K) is in the top K, so its
  rank is the rank of its best-ranked ground truth;
* **text → image**: a caption query has exactly one ground-truth image;
* R@K in percent, median rank ``floor(median(ranks))`` (VSE++ reports
  ``floor(median(rank0)) + 1`` with 0-based ranks, which is the same number),
  mean rank, and ``rsum`` = the six recalls added;
* COCO "1K test": the 5K test images are cut into 5 consecutive folds of 1000
  images (with their captions) and every metric is averaged over the folds.

Ties are counted **against** the query (pessimistic): the rank of a query is
``1 + #(non-ground-truth candidates whose score is >= the best ground-truth
score)``. This is the worst position the ground truth can take under any
tie-breaking, so a constant similarity matrix scores R@1 = 0 (when there is at
least one negative) instead of a perfect score. With untied float scores it is
the usual rank. VSE++ sorts with ``argsort`` (tie order by index), which can
flatter degenerate models; we prefer the honest bound.

Duplicate captions: when several images share a caption *text* (common in
``shapes``, where "there is one square" fits many scenes), pass
``caption_keys`` (one id per caption; equal ids = equal text, see
``caption_keys``). A caption then counts as ground truth for every image that
has a caption with the same text, in both directions; without it, only the
caption's own image does. For captions that are all distinct (emoji names)
both protocols give the same numbers.

Truth-based ground truth: where a checker can decide whether any caption is
true of any image (``shapes``: ``data.shapes.truth_matrix``), pass
``ground_truth``, an ``(N, M)`` bool matrix. A caption is then correct for
every image it is true of, and an image for every caption true of it — the
*truth protocol*, which a perfect model scores 100 on (the text protocol caps
even a perfect model far below that, since "a red circle" is true of many
scenes that were captioned otherwise).

Large matrices need not be held at once: the ``*_chunked`` functions take a
callable that returns one block of the ``(N, M)`` matrix at a time, e.g.
``lambda rows: img_emb[rows] @ cap_emb.T``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "RetrievalScores",
    "image_to_text",
    "text_to_image",
    "image_to_text_chunked",
    "text_to_image_chunked",
    "rsum",
    "evaluate_retrieval",
    "recall_at_k_curve",
    "caption_keys",
    "recall_by_type",
]

SimsFn = Callable[[slice], np.ndarray]


@dataclass(frozen=True)
class RetrievalScores:
    """Retrieval metrics for one direction.

    r1, r5, r10:  recall at 1/5/10 in percent (0–100).
    median_rank:  ``floor(median(ranks))``, 1-based (VSE++ convention).
    mean_rank:    mean of ``ranks``, 1-based.
    ranks:        ``(n_queries,)`` int64, 1-based rank of each query's best ground truth.
    """

    r1: float
    r5: float
    r10: float
    median_rank: float
    mean_rank: float
    ranks: np.ndarray = field(repr=False, compare=False)

    @classmethod
    def from_ranks(cls, ranks: np.ndarray) -> RetrievalScores:
        ranks = np.asarray(ranks, dtype=np.int64)
        if ranks.ndim != 1 or ranks.size == 0:
            raise ValueError(f"ranks must be a non-empty 1-D array, got shape {ranks.shape}")
        return cls(
            r1=_recall(ranks, 1),
            r5=_recall(ranks, 5),
            r10=_recall(ranks, 10),
            median_rank=float(np.floor(np.median(ranks))),
            mean_rank=float(ranks.mean()),
            ranks=ranks,
        )

    def to_dict(self, include_ranks: bool = False) -> dict:
        """Plain floats (JSON-ready); ``ranks`` as a list only when asked."""
        out = {
            "r1": self.r1,
            "r5": self.r5,
            "r10": self.r10,
            "median_rank": self.median_rank,
            "mean_rank": self.mean_rank,
        }
        if include_ranks:
            out["ranks"] = self.ranks.tolist()
        return out


def _recall(ranks: np.ndarray, k: int) -> float:
    return float(100.0 * np.mean(ranks <= k))


def _check_image_of_caption(image_of_caption, n_images: int) -> np.ndarray:
    owner = np.asarray(image_of_caption)
    if owner.ndim != 1 or not np.issubdtype(owner.dtype, np.integer):
        raise ValueError(f"image_of_caption must be a 1-D integer array, got {owner.dtype} {owner.shape}")
    if owner.size and (owner.min() < 0 or owner.max() >= n_images):
        raise ValueError(f"image_of_caption has values outside [0, {n_images})")
    if np.bincount(owner, minlength=n_images).min(initial=1) == 0:
        raise ValueError("every image needs at least one caption in image_of_caption")
    return owner.astype(np.int64)


def _check_block(block: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    block = np.asarray(block)
    if block.shape != shape:
        raise ValueError(f"similarity block has shape {block.shape}, expected {shape}")
    if np.isnan(block).any():
        raise ValueError("similarity matrix contains NaN")
    return block


def _check_sims(sims: np.ndarray, image_of_caption) -> tuple[np.ndarray, np.ndarray]:
    sims = np.asarray(sims)
    if sims.ndim != 2:
        raise ValueError(f"sims must be (N_images, M_captions), got shape {sims.shape}")
    owner = np.asarray(image_of_caption)
    if owner.shape != (sims.shape[1],):
        raise ValueError(f"image_of_caption has shape {owner.shape}, expected ({sims.shape[1]},)")
    return sims, _check_image_of_caption(owner, sims.shape[0])


def caption_keys(captions: Iterable[str]) -> np.ndarray:
    """(M,) ids with equal ids for captions of equal text (case and spacing ignored)."""
    index: dict[str, int] = {}
    return np.array([index.setdefault(" ".join(c.lower().split()), len(index)) for c in captions], dtype=np.int64)


def _key_membership(owner: np.ndarray, keys, n_images: int) -> np.ndarray | None:
    """(N, K) bool: image i has a caption whose text id is k; None when keys is None."""
    if keys is None:
        return None
    keys = np.asarray(keys, dtype=np.int64)
    if keys.shape != owner.shape:
        raise ValueError(f"caption_keys has shape {keys.shape}, expected {owner.shape}")
    has = np.zeros((n_images, int(keys.max(initial=-1)) + 1), dtype=bool)
    has[owner, keys] = True
    return has


def _check_ground_truth(ground_truth, shape: tuple[int, int]) -> np.ndarray | None:
    """An explicit (N, M) ground truth: bool, every image and every caption with at least one true pair."""
    if ground_truth is None:
        return None
    gt = np.asarray(ground_truth)
    if gt.shape != shape or gt.dtype != bool:
        raise ValueError(f"ground_truth must be a bool array of shape {shape}, got {gt.dtype} {gt.shape}")
    if not gt.any(axis=1).all() or not gt.any(axis=0).all():
        raise ValueError("ground_truth leaves an image or a caption with nothing true")
    return gt


def image_to_text_chunked(
    sims_fn: SimsFn, image_of_caption, n_images: int, chunk_size: int = 1000, caption_keys=None,
    ground_truth=None,
) -> RetrievalScores:
    """Image queries over all captions, computed ``chunk_size`` images at a time.

    sims_fn(rows: slice) -> (len(rows), M) block of the similarity matrix.
    image_of_caption: (M,) image index of each caption.
    caption_keys: optional (M,) text ids; equal text counts as ground truth too.
    ground_truth: optional (N, M) bool, the ground truth itself (overrides caption_keys).
    """
    owner = _check_image_of_caption(image_of_caption, n_images)
    has = _key_membership(owner, caption_keys, n_images)
    gt_all = _check_ground_truth(ground_truth, (n_images, owner.size))
    ranks = np.empty(n_images, dtype=np.int64)
    for start in range(0, n_images, chunk_size):
        rows = slice(start, min(start + chunk_size, n_images))
        block = _check_block(sims_fn(rows), (rows.stop - rows.start, owner.size))  # (B, M)
        if gt_all is not None:
            is_gt = gt_all[rows]
        elif has is None:
            is_gt = owner[None, :] == np.arange(rows.start, rows.stop)[:, None]  # (B, M)
        else:
            is_gt = has[rows][:, np.asarray(caption_keys)]  # (B, M): the caption's text is one of the image's
        best_gt = np.where(is_gt, block, -np.inf).max(axis=1)  # (B,)
        beaten_by = (block >= best_gt[:, None]) & ~is_gt  # negatives tied or above
        ranks[rows] = 1 + beaten_by.sum(axis=1)
    return RetrievalScores.from_ranks(ranks)


def text_to_image_chunked(
    sims_fn: SimsFn, image_of_caption, n_images: int, chunk_size: int = 5000, caption_keys=None,
    ground_truth=None,
) -> RetrievalScores:
    """Caption queries over all images, computed ``chunk_size`` captions at a time.

    sims_fn(cols: slice) -> (N, len(cols)) block, i.e. columns of the same
    ``(N_images, M_captions)`` matrix (``lambda cols: img_emb @ cap_emb[cols].T``).
    image_of_caption: (M,) image index of each caption.
    caption_keys: optional (M,) text ids; every image with a caption of the same text is ground truth.
    ground_truth: optional (N, M) bool, the ground truth itself (overrides caption_keys).
    """
    owner = _check_image_of_caption(image_of_caption, n_images)
    has = _key_membership(owner, caption_keys, n_images)
    gt_all = _check_ground_truth(ground_truth, (n_images, owner.size))
    ranks = np.empty(owner.size, dtype=np.int64)
    for start in range(0, owner.size, chunk_size):
        cols = slice(start, min(start + chunk_size, owner.size))
        block = _check_block(sims_fn(cols), (n_images, cols.stop - cols.start))  # (N, B)
        if has is None and gt_all is None:
            gt = block[owner[cols], np.arange(cols.stop - cols.start)]  # (B,)
            # >= counts the ground truth itself once, so this is 1 + #negatives tied or above.
            ranks[cols] = (block >= gt[None, :]).sum(axis=0)
        else:
            is_gt = gt_all[:, cols] if gt_all is not None else has[:, np.asarray(caption_keys)[cols]]  # (N, B)
            best_gt = np.where(is_gt, block, -np.inf).max(axis=0)  # (B,)
            ranks[cols] = 1 + ((block >= best_gt[None, :]) & ~is_gt).sum(axis=0)
    return RetrievalScores.from_ranks(ranks)


def image_to_text(sims: np.ndarray, image_of_caption, caption_keys=None, ground_truth=None) -> RetrievalScores:
    """Image → text retrieval from a full ``(N_images, M_captions)`` matrix."""
    sims, owner = _check_sims(sims, image_of_caption)
    return image_to_text_chunked(lambda rows: sims[rows], owner, sims.shape[0], caption_keys=caption_keys,
                                 ground_truth=ground_truth)


def text_to_image(sims: np.ndarray, image_of_caption, caption_keys=None, ground_truth=None) -> RetrievalScores:
    """Text → image retrieval from a full ``(N_images, M_captions)`` matrix."""
    sims, owner = _check_sims(sims, image_of_caption)
    return text_to_image_chunked(lambda cols: sims[:, cols], owner, sims.shape[0], caption_keys=caption_keys,
                                 ground_truth=ground_truth)


def rsum(i2t: RetrievalScores, t2i: RetrievalScores) -> float:
    """R@1 + R@5 + R@10 of both directions (VSE++'s model-selection score)."""
    return i2t.r1 + i2t.r5 + i2t.r10 + t2i.r1 + t2i.r5 + t2i.r10


def _evaluate(sims: np.ndarray, owner: np.ndarray, include_ranks: bool, keys=None, truth=None) -> dict:
    i2t, t2i = image_to_text(sims, owner, keys, truth), text_to_image(sims, owner, keys, truth)
    return {
        "image_to_text": i2t.to_dict(include_ranks),
        "text_to_image": t2i.to_dict(include_ranks),
        "rsum": rsum(i2t, t2i),
    }


def evaluate_retrieval(
    sims: np.ndarray, image_of_caption, fold_size: int | None = None, include_ranks: bool = False,
    caption_keys=None, ground_truth=None,
) -> dict:
    """Both directions and rsum as a JSON-ready dict.

    sims:             (N_images, M_captions), higher is better.
    image_of_caption: (M,) image index of each caption.
    fold_size:        None → one evaluation over everything (e.g. COCO 5K, Flickr30K 1K).
                      1000 → COCO 1K protocol: images ``[f*1000, (f+1)*1000)`` and
                      their captions form fold ``f``; every metric (recalls,
                      median and mean rank, rsum) is the mean over folds, and
                      ``"folds"`` lists the per-fold results. N must be a multiple
                      of ``fold_size``.

    Returns ``{"image_to_text": {...}, "text_to_image": {...}, "rsum": x}``
    (plus ``"folds": [...]`` and ``"fold_size"`` when folding).
    """
    sims, owner = _check_sims(sims, image_of_caption)
    keys = None if caption_keys is None else np.asarray(caption_keys, dtype=np.int64)
    truth = _check_ground_truth(ground_truth, sims.shape)
    if fold_size is None:
        return _evaluate(sims, owner, include_ranks, keys, truth)
    n_images = sims.shape[0]
    if fold_size <= 0 or n_images % fold_size:
        raise ValueError(f"{n_images} images cannot be cut into folds of {fold_size}")
    folds = []
    for start in range(0, n_images, fold_size):
        cols = np.flatnonzero((owner >= start) & (owner < start + fold_size))
        folds.append(_evaluate(sims[start : start + fold_size][:, cols], owner[cols] - start, include_ranks,
                               None if keys is None else keys[cols],
                               None if truth is None else truth[start : start + fold_size][:, cols]))
    metrics = ("r1", "r5", "r10", "median_rank", "mean_rank")
    mean = {
        direction: {m: float(np.mean([f[direction][m] for f in folds])) for m in metrics}
        for direction in ("image_to_text", "text_to_image")
    }
    return {**mean, "rsum": float(np.mean([f["rsum"] for f in folds])), "fold_size": fold_size, "folds": folds}


def recall_at_k_curve(ranks: np.ndarray, ks: Iterable[int] = range(1, 51)) -> np.ndarray:
    """Recall (percent) at each K in ``ks`` — shape ``(len(ks),)`` — for plots."""
    ranks = np.asarray(ranks)
    ks = np.asarray(list(ks))
    return 100.0 * (ranks[None, :] <= ks[:, None]).mean(axis=1)


def _ranks_against(sims: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """(Q,) 1-based pessimistic rank of each query's best ground truth; sims and gt are (Q, C)."""
    best = np.where(gt, sims, -np.inf).max(axis=1)
    return 1 + ((sims >= best[:, None]) & ~gt).sum(axis=1)


def recall_by_type(sims: np.ndarray, ground_truth: np.ndarray, caption_types: Iterable[str]) -> dict:
    """Retrieval scores per caption type, under an explicit (N, M) ground truth.

    text → image: the caption queries of type T against every image.
    image → text: every image with a true caption of type T, against the captions of type T only
    ("find a true relation among the relation captions"), so each type is its own retrieval task.
    Returns ``{type: {"n_captions", "n_images", "image_to_text": {...}, "text_to_image": {...}, "rsum"}}``.
    """
    sims = np.asarray(sims)
    gt = _check_ground_truth(ground_truth, sims.shape)
    types = np.asarray(list(caption_types))
    if types.shape != (sims.shape[1],):
        raise ValueError(f"caption_types has shape {types.shape}, expected ({sims.shape[1]},)")
    out = {}
    for kind in dict.fromkeys(types.tolist()):
        cols = np.flatnonzero(types == kind)
        rows = np.flatnonzero(gt[:, cols].any(axis=1))
        t2i = RetrievalScores.from_ranks(_ranks_against(sims[:, cols].T, gt[:, cols].T))
        i2t = RetrievalScores.from_ranks(_ranks_against(sims[np.ix_(rows, cols)], gt[np.ix_(rows, cols)]))
        out[kind] = {"n_captions": int(cols.size), "n_images": int(rows.size), "image_to_text": i2t.to_dict(),
                     "text_to_image": t2i.to_dict(), "rsum": rsum(i2t, t2i)}
    return out
