"""Queries checked by meaning: where a dataset has a checker (``shapes``), every shown result is marked.

The checker says of which gallery images any sentence is true, from the gallery or not: the page then turns
any sentence into a test (how many images it is true of, each model's precision over its top k), and the
ground truth is by meaning, as in the evaluation's truth protocol. An image query from the gallery gets each
listed caption marked true or false of it (``Gallery.caption_truth``). No model is involved.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from ..data.items import CaptionDataset, SentenceNotUnderstood
from .outputs import RankedItem, SentenceCheck


def check_text(dataset: CaptionDataset, text: str,
               indices: Sequence[int] | None = None) -> tuple[SentenceCheck | None, np.ndarray | None]:
    """The checker's reading of ``text`` and its (N,) bool truth over the gallery images ``indices``.

    (None, None) where the dataset has no checker; (not understood, None) for a sentence outside its grammar.
    """
    try:
        truth = dataset.check_sentence(text, indices)
    except SentenceNotUnderstood as e:
        return SentenceCheck(False, note=str(e)), None
    if truth is None:
        return None, None
    return SentenceCheck(True, int(truth.sum()), len(truth)), truth


def marked(ranking: Sequence[RankedItem], truth: Sequence[bool] | None) -> tuple[RankedItem, ...]:
    """``ranking`` with each item's ``is_true`` set from ``truth`` (one per item); unchanged when None."""
    if truth is None:
        return tuple(ranking)
    return tuple(dataclasses.replace(it, is_true=bool(t)) for it, t in zip(ranking, truth, strict=True))
