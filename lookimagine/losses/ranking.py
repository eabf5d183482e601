"""Bidirectional hinge ranking losses on an in-batch similarity matrix.

sims is (B, B) with sims[i, j] = s*(text_j, image_i); the diagonal holds the
matching pairs, so a batch must not contain two captions of one image.

- ``kind="sum"`` (GXN, margin 0.05): Σ over all negatives of [α − s(i,i) + s(i,j)]₊,
  for images as queries and for texts as queries.
- ``kind="max"`` (VSE++, margin 0.2): only the hardest negative of each query.
"""

from __future__ import annotations

import torch


def ranking_loss(sims: torch.Tensor, margin: float, kind: str = "sum",
                 true_pairs: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over the batch of the image→text plus text→image hinge costs.

    true_pairs: optional (B, B) bool, True where caption j is *also* true of image i (shapes, by the
    checker). Those off-diagonal pairs are not negatives, so they are left out of both directions
    instead of being pushed away (false-negative masking).
    """
    if sims.ndim != 2 or sims.shape[0] != sims.shape[1]:
        raise ValueError(f"ranking_loss needs a square (B, B) matrix, got {tuple(sims.shape)}")
    positive = sims.diag()
    cost_i2t = (margin + sims - positive[:, None]).clamp(min=0)  # row i: image i against texts j
    cost_t2i = (margin + sims - positive[None, :]).clamp(min=0)  # column j: text j against images i
    eye = torch.eye(sims.shape[0], dtype=torch.bool, device=sims.device)
    if true_pairs is not None:
        if true_pairs.shape != sims.shape:
            raise ValueError(f"true_pairs has shape {tuple(true_pairs.shape)}, expected {tuple(sims.shape)}")
        eye = eye | true_pairs.to(device=sims.device, dtype=torch.bool)
    cost_i2t = cost_i2t.masked_fill(eye, 0.0)
    cost_t2i = cost_t2i.masked_fill(eye, 0.0)
    if kind == "sum":
        return (cost_i2t.sum(1) + cost_t2i.sum(0)).mean()
    if kind == "max":
        return (cost_i2t.max(1).values + cost_t2i.max(0).values).mean()
    raise ValueError(f"unknown ranking loss {kind!r}; use 'sum' or 'max'")
