"""Queries checked by meaning: where a dataset has a checker (``shapes``), every shown result is marked.

A free sentence has no ground truth in the gallery, but the checker can still say of which gallery
images it is true: the page then turns any sentence into a test (how many images it is true of, each
model's precision over its top k). An image query from the gallery gets each listed caption marked
true or false of that image. Pure functions over a ``CaptionDataset``; no model is involved.
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


def check_image(dataset: CaptionDataset, index: int | None, captions: Sequence[str]) -> np.ndarray | None:
    """(len(captions),) bool, each caption true of gallery image ``index``; None where nothing can decide it."""
    if index is None or not captions:
        return None
    truth = dataset.truth_of(list(captions), [index])
    return None if truth is None else np.asarray(truth, dtype=bool)[0]


def marked(ranking: Sequence[RankedItem], truth: Sequence[bool] | None) -> tuple[RankedItem, ...]:
    """``ranking`` with each item's ``is_true`` set from ``truth`` (one per item); unchanged when None."""
    if truth is None:
        return tuple(ranking)
    return tuple(dataclasses.replace(it, is_true=bool(t)) for it, t in zip(ranking, truth, strict=True))
