"""Match: the paper's order-violation similarity, cosine, and their λ-combination.

Order violation (Vendrov et al. 2016, used by GXN): s(t, v) = −‖max(0, v − t)‖².
As in order embeddings, vectors are L2-normalised and made non-negative
(absolute value) so that the partial order is meaningful.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_joint_space(x: torch.Tensor, similarity: str) -> torch.Tensor:
    """Raw head output (B, E) → the vector that similarities compare."""
    x = F.normalize(x, dim=-1)
    return x.abs() if similarity == "order" else x


def pairwise_similarity(v: torch.Tensor, t: torch.Tensor, similarity: str, chunk: int = 32) -> torch.Tensor:
    """Similarity of every image to every text: v (N, E), t (M, E) → (N, M).

    Order violation needs the (N, M, E) difference, so it is computed in chunks
    of ``chunk`` images to bound memory.
    """
    if similarity == "cosine":
        return v @ t.T
    rows = []
    for start in range(0, v.shape[0], chunk):
        block = v[start:start + chunk, None, :] - t[None, :, :]  # (c, M, E)
        rows.append(-(block.clamp(min=0) ** 2).sum(-1))
    return torch.cat(rows, dim=0)


def combined_similarity(v_h, v_l, t_h, t_l, similarity: str, lam: float) -> torch.Tensor:
    """s* = λ·s(t_h, v_h) + (1 − λ)·s(t_l, v_l), (N, M); also the test-time ranking score."""
    return lam * pairwise_similarity(v_h, t_h, similarity) + (1 - lam) * pairwise_similarity(v_l, t_l, similarity)
