"""Result types of the Look → Imagine → Match pipeline.

One small frozen dataclass per stage, so the app and the API see stable,
JSON-friendly shapes whatever the model (baseline or GXN) or direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import Image

Direction = Literal["image_to_text", "text_to_image"]


class QueryError(ValueError):
    """A query the pipeline refuses, with a message meant for a person."""


@dataclass(frozen=True)
class Look:
    """Where the query lands among the gallery, in one model's joint space (see ``look_map``).

    embedding:   the query's vector in the joint space, shape (D,) — the abstract and
                 grounded vectors concatenated, weighted by √λ and √(1 − λ) (``look_map.embed``).
    gallery_xy:  the gallery entries the query is matched against, in 2-D, (N, 2).
    query_xy:    the query in the same plane, (2,).
    other_xy:    the gallery's other modality (the query's own: captions for a sentence,
                 images for a picture) in the same plane, (M, 2); empty when not shown.
    gallery_kind: what ``gallery_xy`` holds, "images" or "captions".
    centre_score: the score drawn at the query: an entry with score s lies
                 ``centre_score − s`` from it (``look_map``).
    gallery_index: the gallery index of each ``gallery_xy`` row, (n,) sorted, when only part of a
                 large (indexed) gallery is drawn: a fixed sample plus the query's best matches.
                 None: every entry is drawn, row i is entry i.
    """

    embedding: np.ndarray
    gallery_xy: np.ndarray
    query_xy: np.ndarray
    other_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    gallery_kind: str = "images"
    centre_score: float = 1.0
    gallery_index: np.ndarray | None = None
    gallery_size: int | None = None  # entries ranked, when not all are drawn (``gallery_index``)

    @property
    def n_ranked(self) -> int:
        """How many gallery entries the query was ranked against."""
        return self.gallery_size if self.gallery_size is not None else len(self.gallery_xy)

    def row_of(self, index: int) -> int | None:
        """The ``gallery_xy`` row of gallery entry ``index`` (None when that entry is not drawn)."""
        if self.gallery_index is None:
            return index if 0 <= index < len(self.gallery_xy) else None
        row = int(np.searchsorted(self.gallery_index, index))
        return row if row < len(self.gallery_index) and self.gallery_index[row] == index else None


@dataclass(frozen=True)
class Imagined:
    """What a model imagines from the query; both fields None for the baseline.

    caption: generated sentence (image → text queries).
    images:  generated pictures (text → image queries), one per sample.
    note:    a plain sentence for the UI, e.g. "The baseline has no generator."
    """

    caption: str | None = None
    images: tuple[Image.Image, ...] = ()
    note: str = ""


@dataclass(frozen=True)
class RankedItem:
    """One gallery entry in a ranking.

    index: position in the gallery; id: the dataset's stable id;
    caption: the text shown (the matched caption, or the image's first caption);
    image: the gallery image (None when the gallery holds captions).
    """

    rank: int  # 1-based
    index: int
    id: str
    score: float
    caption: str
    image: Image.Image | None
    is_ground_truth: bool


@dataclass(frozen=True)
class ModelResult:
    """Look, Imagine and Match of one model for one query."""

    model: str  # "baseline" or "gxn"
    look: Look
    imagined: Imagined
    ranking: tuple[RankedItem, ...]
    ground_truth_rank: int | None  # 1-based rank of the best ground-truth entry, None if unknown
    seconds: float
    # an indexed gallery searches only its best ``ground_truth_beyond`` entries: a ground truth that is not
    # among them has no exact rank, only "beyond" this (and ``ground_truth_rank`` is None)
    ground_truth_beyond: int | None = None


@dataclass(frozen=True)
class QueryResult:
    """Both models side by side for one query."""

    direction: Direction
    query_text: str | None  # the text as used (after truncation) for text queries
    baseline: ModelResult
    gxn: ModelResult
    notices: tuple[str, ...] = field(default_factory=tuple)  # truncation, unknown words, ...

    def to_json(self) -> dict:
        """A JSON-friendly summary (no images, no arrays) for the API."""

        def model_json(r: ModelResult) -> dict:
            return {
                "model": r.model,
                "imagined_caption": r.imagined.caption,
                "imagined_images": len(r.imagined.images),
                "imagine_note": r.imagined.note,
                "ground_truth_rank": r.ground_truth_rank,
                "ground_truth_beyond": r.ground_truth_beyond,
                "seconds": round(r.seconds, 4),
                "ranking": [
                    {"rank": it.rank, "id": it.id, "score": round(it.score, 5), "caption": it.caption,
                     "is_ground_truth": it.is_ground_truth}
                    for it in r.ranking
                ],
            }

        return {
            "direction": self.direction,
            "query_text": self.query_text,
            "notices": list(self.notices),
            "baseline": model_json(self.baseline),
            "gxn": model_json(self.gxn),
        }
