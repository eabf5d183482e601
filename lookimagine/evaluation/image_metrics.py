"""R-precision of generated images (AttnGAN, Xu et al., CVPR 2018, Sec. 4).

AttnGAN's protocol: every generated image is a query over a pool of 100
captions — the caption it was generated from plus 99 randomly drawn
mismatched captions — scored by an *independent* image–text encoder (their
DAMSM; any retrieval model not trained with the generator will do).
R-precision with R = 1 is the share of images whose own caption scores
highest. AttnGAN repeats the draw 10 times and reports mean ± std in percent;
call :func:`r_precision` with several seeds for that.

Two choices made explicit here:

* mismatched captions must belong to *other* images: with
  ``caption_owner`` (caption → image) given, the image's other true captions
  (COCO has 5) are never drawn as negatives;
* with ``caption_text`` (a key per caption, e.g. its normalised text) given, a
  caption identical in text to the true one is never drawn as a negative either:
  on emoji the same name drawn in another art style is the same caption, and
  counting the judge's tie between them as a miss would punish a perfect image;
* ties count against the image: its caption must score strictly higher than
  all 99 others, so a constant scorer gets 0, not 1.

Where a checker says which captions are true of which scene (shapes),
:func:`r_precision_truth` is reported beside it: on shapes "a red circle" is
true of many scenes, so exact-caption R-precision counts a correct image as a
miss whenever the judge prefers another caption that is just as true. The
truth-aware variant scores the same pools; a hit is an image whose best true
candidate (its own caption, or another caption true of the scene it was drawn
from) scores strictly above every false one. Applied identically to the real
images, and with its chance level (the mean share of true candidates).

For scorers too large to evaluate as a full matrix, use the two halves:
:func:`sample_r_precision_candidates` gives the ``(N, 100)`` caption indices,
score those pairs however is convenient, then :func:`r_precision_from_candidate_scores`.
"""

from __future__ import annotations

import numpy as np

__all__ = ["r_precision", "r_precision_truth", "sample_r_precision_candidates",
           "r_precision_from_candidate_scores"]


def sample_r_precision_candidates(
    true_caption,
    n_captions: int,
    n_candidates: int = 100,
    seed: int | np.random.Generator = 0,
    caption_owner=None,
    caption_text=None,
) -> np.ndarray:
    """Caption pools for R-precision.

    true_caption:  (N_images,) index of the caption each image was generated from.
    n_captions:    number of captions M that can be drawn.
    caption_owner: (M,) image index of each caption, or None (then only the
                   image's own ``true_caption`` is excluded from its negatives).
    caption_text:  (M,) hashable key per caption (its text), or None; captions
                   whose key equals the true caption's are never negatives.
    Returns (N_images, n_candidates) int64 caption indices; column 0 is the
    true caption, columns 1.. are distinct mismatched captions drawn without
    replacement with ``np.random.default_rng(seed)``.
    """
    true_caption = np.asarray(true_caption, dtype=np.int64)
    if true_caption.ndim != 1:
        raise ValueError(f"true_caption must be 1-D, got shape {true_caption.shape}")
    if true_caption.size and (true_caption.min() < 0 or true_caption.max() >= n_captions):
        raise ValueError(f"true_caption has values outside [0, {n_captions})")
    if n_candidates < 2:
        raise ValueError("n_candidates must be at least 2 (the true caption and one negative)")
    if caption_owner is not None:
        caption_owner = np.asarray(caption_owner, dtype=np.int64)
        if caption_owner.shape != (n_captions,):
            raise ValueError(f"caption_owner has shape {caption_owner.shape}, expected ({n_captions},)")
        if np.any(caption_owner[true_caption] != np.arange(true_caption.size)):
            raise ValueError("caption_owner[true_caption[i]] must be i for every image i")
    text_id = None
    if caption_text is not None:
        if len(caption_text) != n_captions:
            raise ValueError(f"caption_text has {len(caption_text)} entries, expected {n_captions}")
        _, text_id = np.unique(np.asarray([str(k) for k in caption_text]), return_inverse=True)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    pools = np.empty((true_caption.size, n_candidates), dtype=np.int64)
    pools[:, 0] = true_caption
    all_captions = np.arange(n_captions)
    for i, own in enumerate(true_caption):
        keep = caption_owner != i if caption_owner is not None else all_captions != own
        if text_id is not None:
            keep = keep & (text_id != text_id[own])
        eligible = all_captions[keep]
        if eligible.size < n_candidates - 1:
            raise ValueError(f"image {i}: only {eligible.size} mismatched captions, need {n_candidates - 1}")
        pools[i, 1:] = rng.choice(eligible, size=n_candidates - 1, replace=False)
    return pools


def r_precision_from_candidate_scores(candidate_scores: np.ndarray) -> float:
    """Share of rows whose column 0 (the true caption) is strictly the highest.

    candidate_scores: (N_images, n_candidates), higher is better. Returns a
    fraction in [0, 1] (× 100 for AttnGAN's tables).
    """
    s = np.asarray(candidate_scores, dtype=np.float64)
    if s.ndim != 2 or s.shape[1] < 2 or s.shape[0] == 0:
        raise ValueError(f"candidate_scores must be (N>0, C>=2), got shape {s.shape}")
    if np.isnan(s).any():
        raise ValueError("candidate_scores contains NaN")
    return float(np.mean(s[:, 0] > s[:, 1:].max(axis=1)))


def r_precision(
    scores: np.ndarray,
    true_caption,
    n_candidates: int = 100,
    seed: int | np.random.Generator = 0,
    caption_owner=None,
    caption_text=None,
) -> float:
    """AttnGAN R-precision (R = 1) from a full score matrix.

    scores:        (N_images, M_captions) image–caption scores from an
                   independent encoder, higher is better.
    true_caption:  (N_images,) the caption each image was generated from.
    caption_owner: (M,) image of each caption, to keep an image's other true
                   captions out of its negatives (None: only ``true_caption``).
    caption_text:  (M,) text key of each caption: same-text captions are never negatives.
    Returns the fraction of images whose own caption beats the other
    ``n_candidates - 1`` strictly.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or scores.shape[0] != np.asarray(true_caption).shape[0]:
        raise ValueError(f"scores must be (N_images, M_captions) with N = len(true_caption), got {scores.shape}")
    pools = sample_r_precision_candidates(true_caption, scores.shape[1], n_candidates, seed, caption_owner,
                                         caption_text)
    return r_precision_from_candidate_scores(np.take_along_axis(scores, pools, axis=1))


def r_precision_truth(
    scores: np.ndarray,
    true_caption,
    truth: np.ndarray,
    n_candidates: int = 100,
    seed: int | np.random.Generator = 0,
    caption_owner=None,
    caption_text=None,
) -> tuple[float, float]:
    """Truth-aware R-precision (R = 1) on the same caption pools as :func:`r_precision`.

    scores: (N_images, M_captions), higher is better; truth: (N_images, M_captions) bool, caption j
    true of image i's scene (the image's own caption counts as true). A hit: the best-scoring true
    candidate beats every false candidate strictly (ties count against). Returns (fraction of hits,
    chance level: the mean share of true candidates per pool, what a random scorer expects).
    """
    scores, truth = np.asarray(scores), np.asarray(truth, dtype=bool)
    if truth.shape != scores.shape:
        raise ValueError(f"truth has shape {truth.shape}, expected the scores' {scores.shape}")
    pools = sample_r_precision_candidates(true_caption, scores.shape[1], n_candidates, seed, caption_owner,
                                          caption_text)
    s = np.take_along_axis(scores, pools, axis=1).astype(np.float64)
    t = np.take_along_axis(truth, pools, axis=1)
    t[:, 0] = True
    best_true = np.where(t, s, -np.inf).max(axis=1)
    best_false = np.where(t, -np.inf, s).max(axis=1)
    return float(np.mean(best_true > best_false)), float(t.mean())
