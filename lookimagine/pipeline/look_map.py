"""The Look map: one query among the gallery, both modalities, in 2-D — pure numpy.

Why not a PCA of the joint space: images and captions sit in two separate
clouds (the *modality gap*), so a plane fitted on the gallery is dominated by
the gap and a sentence query lands among the captions, far from the images
it matched; and no 2-D plane keeps the order of a few hundred close scores
in a space of hundreds of dimensions. The map is therefore drawn around the
query, so that it explains the ranking:

* **distance from the query = how much lower the score is than the best.**
  An entry of the modality the query is matched against is drawn at
  ``radius(s*) = √(s_centre − s*)`` from the query, ``s*`` its ranking score
  and ``s_centre`` a little above the best score; so the nearest dots are the
  best matches, in order, and the top matches sit right around the query
  (the square root spreads the few close scores at the top and packs the
  many low ones at the rim). The query's own
  modality (captions for a sentence, images for a picture) is drawn by its
  similarity to the query, less the mean gap between the two modalities'
  similarities, so both clouds share one scale.
* **direction = how the entry differs from the query's best matches.** The
  angle of an entry is its angle in the plane in which the ``NEIGHBOURS``
  best matches differ most (a PCA of them, with the gap removed: each
  modality centred on its own mean, then scaled to unit length). The top
  matches fan out around the query, and entries that are alike lie in alike
  directions, whatever their modality.

``embed`` builds the vectors: the abstract and grounded parts weighted by
√λ and √(1 − λ), whose dot product is the ranking score s* for cosine models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .outputs import Look

#: how many of the best matches fix the map's directions
NEIGHBOURS = 10


def embed(high: np.ndarray, low: np.ndarray, lam: float) -> np.ndarray:
    """Abstract (…, E) and grounded (…, E) vectors → one (…, 2E) vector whose dot product is s* (cosine)."""
    return np.concatenate([np.sqrt(lam) * high, np.sqrt(1 - lam) * low], -1)


def radius(scores: np.ndarray | float, centre: float) -> np.ndarray:
    """Distance from the query on the map of an entry with score ``scores`` (0 at ``centre``)."""
    return np.sqrt(np.clip(centre - np.asarray(scores, dtype=float), 0.0, None))


def centre_score(scores: np.ndarray) -> float:
    """The score drawn at the query: the best score plus 15% of its lead over the median."""
    best = float(np.max(scores))
    return best + 0.15 * max(best - float(np.median(scores)), 1e-6)


def fit_pca(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and the top-2 principal axes (D, 2) of rows x (n, D); signs fixed for stable plots."""
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    axes = np.zeros((x.shape[1], 2))
    axes[:, : min(2, len(vt))] = vt[:2].T
    axes *= np.where(axes[np.abs(axes).argmax(0), range(2)] < 0, -1.0, 1.0)  # largest loading positive
    return mean, axes


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _place(directions: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Points at ``radii`` (n,) from the origin, in the directions of ``directions`` (n, 2)."""
    return _unit(directions) * radii[:, None]


@dataclass(frozen=True)
class LookSpace:
    """One model's gallery, both modalities, ready to be drawn around any query."""

    images: np.ndarray  # (N, D) ``embed`` vectors
    texts: np.ndarray  # (M, D)
    means: dict  # {"images": (D,), "texts": (D,)}: each modality's mean, the gap between them
    # {"images": (N, D), "texts": (M, D)}: the gap-removed unit vectors, computed once per gallery (they do
    # not depend on the query; recomputing them per query cost ~40 ms on the 5,000 shapes captions)
    unit: dict

    @classmethod
    def of(cls, images: np.ndarray, texts: np.ndarray) -> LookSpace:
        means = {"images": images.mean(0), "texts": texts.mean(0)}
        unit = {"images": _unit(images - means["images"]), "texts": _unit(texts - means["texts"])}
        return cls(images, texts, means, unit)

    def _directions(self, modality: str, pca: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Gap-removed vectors of one modality in the plane ``pca`` (n, 2): only their directions are used."""
        mean, axes = pca
        return (self.centred(modality) - mean) @ axes

    def centred(self, modality: str) -> np.ndarray:
        """The modality's vectors with the gap removed: centred on their own mean, unit length."""
        return self.unit[modality]

    def look(self, query: np.ndarray, query_is_text: bool, scores: np.ndarray) -> Look:
        """The map for ``query`` (D,), whose ``scores`` (one per entry of the other modality) rank the gallery."""
        own, matched = ("texts", "images") if query_is_text else ("images", "texts")
        own_scores = getattr(self, own) @ query
        gap = own_scores.mean() - np.mean(scores)
        centre = centre_score(scores)
        near = np.argsort(-np.asarray(scores), kind="stable")[:NEIGHBOURS]
        pca = fit_pca(self.centred(matched)[near])  # the plane in which the best matches differ most
        gallery_xy = _place(self._directions(matched, pca), radius(scores, centre))
        other_xy = _place(self._directions(own, pca), radius(own_scores - gap, centre))
        return Look(embedding=query, gallery_xy=gallery_xy, query_xy=np.zeros(2), other_xy=other_xy,
                    gallery_kind="images" if query_is_text else "captions", centre_score=centre)
