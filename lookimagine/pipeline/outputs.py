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
    best_of: each picture is the best of this many drawings by GXN's own s* (``ModelConfig.imagine_best_of``).
    """

    caption: str | None = None
    images: tuple[Image.Image, ...] = ()
    note: str = ""
    best_of: int = 1


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
    # the dataset checker's verdict (shapes): the query sentence is true of this image, or this caption is
    # true of the query image; None where no checker can decide it
    is_true: bool | None = None


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

    @property
    def n_true(self) -> int | None:
        """How many of the shown results the checker marks true (None when there is no checker)."""
        marks = [it.is_true for it in self.ranking]
        return None if not marks or None in marks else sum(marks)

    @property
    def precision_at_k(self) -> float | None:
        """The checker's precision over the shown top k (None when there is no checker)."""
        n = self.n_true
        return None if n is None else n / len(self.ranking)


@dataclass(frozen=True)
class SentenceCheck:
    """What the dataset's checker (``CaptionDataset.check_sentence``) says of a query.

    understood: False when the sentence is outside the checker's grammar (``note`` says why; the
                models still rank it, unmarked).
    true_of:    how many gallery images the sentence is true of (text queries; None for an image query).
    gallery_size: how many gallery images were checked.
    """

    understood: bool
    true_of: int | None = None
    gallery_size: int = 0
    note: str = ""

    def to_json(self) -> dict:
        return {"understood": self.understood, "true_of": self.true_of, "gallery_size": self.gallery_size,
                "note": self.note}


@dataclass(frozen=True)
class QueryResult:
    """Both models side by side for one query."""

    direction: Direction
    query_text: str | None  # the text as used (after truncation) for text queries
    baseline: ModelResult
    gxn: ModelResult
    notices: tuple[str, ...] = field(default_factory=tuple)  # truncation, unknown words, ...
    check: SentenceCheck | None = None  # the checker's reading, on a dataset with a checker (shapes)

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
                "precision_at_k": r.precision_at_k,
                "ranking": [
                    {"rank": it.rank, "id": it.id, "score": round(it.score, 5), "caption": it.caption,
                     "is_ground_truth": it.is_ground_truth, "is_true": it.is_true}
                    for it in r.ranking
                ],
            }

        return {
            "direction": self.direction,
            "query_text": self.query_text,
            "notices": list(self.notices),
            "check": self.check.to_json() if self.check is not None else None,
            "baseline": model_json(self.baseline),
            "gxn": model_json(self.gxn),
        }
