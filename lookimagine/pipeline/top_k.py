"""Ranking a gallery by score, with the ground truth's rank — pure numpy, shared by every pipeline."""

from __future__ import annotations

from collections.abc import Collection

import numpy as np


def rank(scores: np.ndarray, truth: Collection[int], k: int) -> tuple[list[int], int | None]:
    """The ``k`` best gallery indices, best first, and the 1-based rank of the best ground-truth entry.

    Ties with other entries count against the ground truth (and on a tied
    score the ground truth is listed last); other ground-truth entries do not
    count. The rank is None when ``truth`` is empty (a query from outside the gallery).
    """
    scores = np.asarray(scores)
    is_gt = np.zeros(len(scores), dtype=bool)
    is_gt[list(truth)] = True
    order = np.lexsort((is_gt, -scores))  # by score; on a tie the ground truth comes last
    gt_rank = 1 + int((scores[~is_gt] >= scores[is_gt].max()).sum()) if is_gt.any() else None
    return [int(i) for i in order[:k]], gt_rank


def rank_distinct(scores: np.ndarray, truth: Collection[int], k: int,
                  groups: np.ndarray) -> tuple[list[int], int | None]:
    """``rank`` over distinct texts: each group of entries (``groups``: (N,) int ids, equal id = equal text)
    is represented by its best-scoring entry, so a caption text is listed once.

    Returns the ``k`` best representatives (gallery indices), best first, and the 1-based rank of the best
    ground-truth *text* among the distinct texts (a ground truth group is any group holding a ``truth`` entry).
    """
    scores, groups = np.asarray(scores), np.asarray(groups)
    order = np.argsort(-scores, kind="stable")
    present, first = np.unique(groups[order], return_index=True)  # each group's first (best) entry in ``order``
    best = order[first]  # (G,) gallery index of each present group's best entry
    position = {int(g): i for i, g in enumerate(present)}
    top, gt_rank = rank(scores[best], {position[int(groups[t])] for t in truth}, k)
    return [int(best[i]) for i in top], gt_rank
