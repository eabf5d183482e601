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
