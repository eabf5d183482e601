"""Imagination used in Match: does what GXN imagines help it rank, at query time?

Two fusions of the joint-space score s* with a generative one, each z-scored per query so that one weight
means the same on every query:

- **text→image, by the imagined picture** (as Visualize-then-Retrieve does with a pretrained generator): the
  query's imagined picture is embedded by GXN's image encoder and compared with every gallery image in the
  joint space (λ·cos(v_h, v_h') + (1 − λ)·cos(v_l, v_l')); score = z(s*) + w · z(image–image).
- **image→text, by the caption decoder's likelihood**: the top ``k`` captions by s* are re-ranked by
  z(s*) + w · z(mean log p(caption | v_l)), the rest keep their order below them.

w = 0 is GXN's own ranking. The weight is chosen on val and reported on test (``tools/fusion.py``).
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ..data.batching import EncodedSplit
from ..data.vocab import PAD_ID
from ..models.gxn import GXN, ImageEmbedding
from .embedding import embed_images, embed_split
from .imagination import imagine


def zscore_rows(scores: np.ndarray) -> np.ndarray:
    """Each row to mean 0, std 1 (a constant row to 0)."""
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True)
    return (scores - mean) / np.where(std > 0, std, 1.0)


def fuse(base: np.ndarray, extra: np.ndarray, w: float) -> np.ndarray:
    """z(base) + w · z(extra), row by row (rows are queries)."""
    return zscore_rows(base) + w * zscore_rows(extra)


def image_image_similarity(model: GXN, a: ImageEmbedding, b: ImageEmbedding) -> torch.Tensor:
    """Every image of ``a`` against every image of ``b`` in GXN's joint space, with s*'s own λ: (|a|, |b|)."""
    lam = model.cfg.lam
    return lam * a.v_h @ b.v_h.T + (1 - lam) * a.v_l @ b.v_l.T


@torch.no_grad()
def imagined_scores(model: GXN, split: EncodedSplit, device, seed: int = 0) -> np.ndarray:
    """(M captions, N images): the similarity of each caption's imagined picture to each gallery image."""
    rows = np.arange(split.n_captions)
    pictures = imagine(model, split, rows, seed=seed)  # uint8 (M, 3, S, S)
    size = split.images.shape[-1]
    if pictures.shape[-1] != size:  # the pixel-space diffusion draws smaller: read at the encoder's size
        pictures = F.interpolate(pictures.float(), size=(size, size), mode="bilinear").round().clamp(0, 255).byte()
    imagined = embed_images(model, pictures, device)
    gallery = embed_images(model, split.images, device)
    return image_image_similarity(model, imagined, gallery).float().cpu().numpy()


@torch.no_grad()
def caption_log_likelihood(model: GXN, v_l: torch.Tensor, tokens: torch.Tensor, lengths: torch.Tensor,
                           batch: int = 1024) -> torch.Tensor:
    """Mean per-word log p(caption | v_l) under the caption decoder, teacher-forced: v_l (P, E) and the P
    captions' tokens (P, T) → (P,)."""
    model.eval()
    out = []
    for s in range(0, len(v_l), batch):
        t = tokens[s:s + batch, :int(lengths[s:s + batch].max())]
        logits = model.caption_decoder(v_l[s:s + batch], t)  # (B, T−1, V)
        target = t[:, 1:]
        logp = logits.log_softmax(-1).gather(-1, target.unsqueeze(-1)).squeeze(-1)
        mask = (target != PAD_ID).float()
        out.append((logp * mask).sum(1) / mask.sum(1))
    return torch.cat(out)


@torch.no_grad()
def top_k_likelihood(model: GXN, split: EncodedSplit, sims: np.ndarray, k: int, device) -> tuple[np.ndarray, np.ndarray]:
    """For each image, its top ``k`` captions by s* (N, k) and their caption-decoder likelihoods (N, k)."""
    img, _ = embed_split(model, split, device)
    top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    rows = torch.as_tensor(top.reshape(-1))
    v_l = img.v_l.repeat_interleave(k, dim=0)
    ll = caption_log_likelihood(model, v_l, split.tokens[rows].to(v_l.device), split.lengths[rows])
    return top, ll.view(-1, k).float().cpu().numpy()


def rerank_top_k(sims: np.ndarray, top: np.ndarray, likelihood: np.ndarray, w: float) -> np.ndarray:
    """(N, M) scores whose ranking is s*'s with each row's top k re-ordered by z(s*) + w · z(likelihood)."""
    rows = np.arange(sims.shape[0])[:, None]
    fused = fuse(sims[rows, top], likelihood, w)
    out = sims - sims.max() + fused.min() - 1.0  # the rest keep their order, strictly below the fused top k
    out[rows, top] = fused
    return out
