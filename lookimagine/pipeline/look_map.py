"""The Look map: one query among the gallery, both modalities, in 2-D — pure numpy.

Why not a PCA of the joint space: images and captions sit in two separate
clouds (the *modality gap*), so a plane fitted on the gallery is dominated by
the gap and a sentence query lands among the captions, far from the images
it matched; and no 2-D plane keeps the order of a few hundred close scores
in a space of hundreds of dimensions. The map is therefore drawn around the
query, so that it explains the ranking:

* **distance from the query = 1 − score.** An entry of the modality the
  query is matched against is drawn at ``radius(s*)`` from the query, its
  ranking score; the nearest dots are the best matches, in order. The
  query's own modality (captions for a sentence, images for a picture) is
  drawn at ``radius`` of its similarity to the query, less the mean gap
  between the two modalities' similarities, so both clouds share one scale.
* **direction = where the entry lies in the joint space.** The angle of an
  entry seen from the query is its angle in a PCA of the whole gallery with
  the gap removed (each modality centred on its own mean, then scaled to unit
  length): entries that are alike lie in alike directions, whatever their
  modality.

``embed`` builds the vectors: the abstract and grounded parts weighted by
√λ and √(1 − λ), whose dot product is the ranking score s* for cosine models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .outputs import Look


def embed(high: np.ndarray, low: np.ndarray, lam: float) -> np.ndarray:
    """Abstract (…, E) and grounded (…, E) vectors → one (…, 2E) vector whose dot product is s* (cosine)."""
    return np.concatenate([np.sqrt(lam) * high, np.sqrt(1 - lam) * low], -1)


def radius(score: np.ndarray | float) -> np.ndarray:
    """Distance from the query on the map for a score (1 for s = 0, 0 for a perfect match)."""
    return np.clip(1.0 - np.asarray(score, dtype=float), 0.0, None)


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
    pca: tuple[np.ndarray, np.ndarray]  # mean (D,), axes (D, 2) of the gap-removed gallery

    @classmethod
    def of(cls, images: np.ndarray, texts: np.ndarray) -> LookSpace:
        means = {"images": images.mean(0), "texts": texts.mean(0)}
        pca = fit_pca(np.concatenate([_unit(images - means["images"]), _unit(texts - means["texts"])]))
        return cls(images, texts, means, pca)

    def _angles(self, x: np.ndarray, modality: str) -> np.ndarray:
        """Gap-removed 2-D positions (n, 2) of vectors of one modality (only their directions are used)."""
        mean, axes = self.pca
        return (_unit(x - self.means[modality]) - mean) @ axes

    def look(self, query: np.ndarray, query_is_text: bool, scores: np.ndarray) -> Look:
        """The map for ``query`` (D,), whose ``scores`` (one per entry of the other modality) rank the gallery."""
        own, matched = ("texts", "images") if query_is_text else ("images", "texts")
        seen_from = self._angles(query[None], own)[0]
        own_scores = getattr(self, own) @ query
        gap = own_scores.mean() - np.mean(scores)
        gallery_xy = _place(self._angles(getattr(self, matched), matched) - seen_from, radius(scores))
        other_xy = _place(self._angles(getattr(self, own), own) - seen_from, radius(own_scores - gap))
        return Look(embedding=query, gallery_xy=gallery_xy, query_xy=np.zeros(2), other_xy=other_xy,
                    gallery_kind="images" if query_is_text else "captions")
