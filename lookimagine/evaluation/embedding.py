"""Embedding a whole encoded split with a model, and validation retrieval scores."""

from __future__ import annotations

import torch

from ..data.batching import EncodedSplit
from ..data.images import images_to_float
from ..models.gxn import GXN, ImageEmbedding, TextEmbedding


@torch.no_grad()
def embed_images(model: GXN, images_u8: torch.Tensor, device, batch: int = 256) -> ImageEmbedding:
    model.eval()
    parts = [model.encode_image(images_to_float(images_u8[s:s + batch].to(device)))
             for s in range(0, images_u8.shape[0], batch)]
    return ImageEmbedding(torch.cat([p.v_h for p in parts]), torch.cat([p.v_l for p in parts]))


@torch.no_grad()
def embed_texts(model: GXN, tokens: torch.Tensor, lengths: torch.Tensor, device, batch: int = 512) -> TextEmbedding:
    """Joint-space t_h, t_l (M, E); the per-word states are not kept (they are only for drawing)."""
    model.eval()
    parts = [model.encode_text(tokens[s:s + batch].to(device), lengths[s:s + batch].to(device))
             for s in range(0, tokens.shape[0], batch)]
    empty = torch.empty(0)
    return TextEmbedding(torch.cat([p.t_h for p in parts]), torch.cat([p.t_l for p in parts]), empty, empty)


@torch.no_grad()
def split_similarity(model: GXN, split: EncodedSplit, device) -> torch.Tensor:
    """s* of every image against every caption of a split, (N, M) on the CPU."""
    img = embed_images(model, split.images, device)
    txt = embed_texts(model, split.tokens, split.lengths, device)
    return model.similarity(img, txt).float().cpu()
