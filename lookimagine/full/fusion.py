"""Match: the look similarity fused with the imagined output's similarity, with one weight — pure numpy.

For a query q and a gallery entry g (all vectors unit rows of one open_clip model):

    look(q, g)     = cos(q, g)                              across modalities (CLIP's own score)
    imagined(q, g) = cos(caption(q), g)                     image query: the generated caption against the
                                                            gallery's captions, through the text tower
                   = mean_i cos(picture_i(q), g)            text query: each generated picture against the
                                                            gallery's images, through the image tower
    s(q, g)        = (1 − w) · look(q, g) + w · imagined(q, g)

w = 0 is CLIP alone (the baseline column); w = 1 ranks by the imagination
alone. This is the GXN idea at query time: the paper (Gu et al., CVPR 2018)
uses the generators only as a training signal; querying through an
imagined caption or picture is the zero-shot stand-in when no GXN is trained.

Scales: the imagined similarities are *within* one modality, and CLIP's
intra-modal cosines are larger and spread wider than its image–text ones
(the modality gap), so the same w weighs imagination more than it looks.
Nothing is renormalised, so that the formula stays the documented one; the
weight sweep of ``python -m lookimagine.evaluate zero-shot`` measures which w
suits a gallery.
"""

from __future__ import annotations

import numpy as np


def check_weight(weight: float) -> float:
    """``weight`` as a float in [0, 1], or ``ValueError``."""
    w = float(weight)
    if not 0.0 <= w <= 1.0:
        raise ValueError(f"the fusion weight must be in [0, 1], got {weight}")
    return w


def fuse(look: np.ndarray, imagined: np.ndarray, weight: float) -> np.ndarray:
    """s = (1 − w)·look + w·imagined, elementwise; any shape, both the same."""
    look, imagined = np.asarray(look, dtype=np.float64), np.asarray(imagined, dtype=np.float64)
    if look.shape != imagined.shape:
        raise ValueError(f"look {look.shape} and imagined {imagined.shape} scores differ in shape")
    w = check_weight(weight)
    return (1.0 - w) * look + w * imagined


def caption_similarity(generated: np.ndarray, gallery_captions: np.ndarray) -> np.ndarray:
    """Generated captions (Q, D) against the gallery's captions (M, D) → (Q, M) cosines (unit rows)."""
    return np.asarray(generated) @ np.asarray(gallery_captions).T


def picture_similarity(generated: np.ndarray, gallery_images: np.ndarray) -> np.ndarray:
    """The n pictures imagined for one query (n, D) against the gallery's images (N, D) → (N,).

    The mean of the n cosines: each picture is one guess at what the text
    shows, and averaging scores (not vectors) keeps each guess's own match.
    """
    generated = np.atleast_2d(np.asarray(generated))
    return (np.asarray(gallery_images) @ generated.T).mean(axis=1)
