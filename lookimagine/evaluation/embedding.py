"""Embedding many images or captions with a model, batch by batch: the one loop the evaluation, the
trainer's validation and the pipeline's galleries (a split, a folder's shards) all use."""

from __future__ import annotations

import sys
from collections.abc import Callable

import torch
from tqdm import tqdm

from ..data.batching import EncodedSplit
from ..data.images import images_to_float
from ..models.gxn import GXN, ImageEmbedding, TextEmbedding


@torch.no_grad()
def embed_in_batches(encode: Callable[[slice], ImageEmbedding | TextEmbedding], n: int, batch: int | None,
                     fields: tuple[str, str], *, on_cpu: bool = False, progress: bool = False,
                     desc: str = "") -> tuple[torch.Tensor, torch.Tensor]:
    """``encode`` rows ``s`` of ``n`` (``batch`` at a time; None: all at once) → its two ``fields``, (n, E) each.

    ``on_cpu``: each batch is moved to the CPU as float32 as soon as it is encoded (a gallery larger than
    the device holds); else the parts stay where the model put them, in its dtype.
    """
    step = max(batch or n, 1)
    parts = []
    for s in tqdm(range(0, n, step), desc=desc, disable=not progress, file=sys.stderr, leave=False):
        out = encode(slice(s, s + step))
        parts.append([getattr(out, f).float().cpu() if on_cpu else getattr(out, f) for f in fields])
    first, second = zip(*parts)
    return torch.cat(first), torch.cat(second)


def embed_images(model: GXN, images_u8: torch.Tensor, device, batch: int | None = 256, *, on_cpu: bool = False,
                 progress: bool = False, desc: str = "images") -> ImageEmbedding:
    """(N, 3, S, S) uint8 → v_h, v_l (N, E); the pixels reach ``device`` as uint8 and become the model's floats
    there. ``images_u8``: a tensor, or anything with ``len`` whose slices are such tensors (decoded lazily)."""
    model.eval()
    dtype = next(model.parameters()).dtype
    v_h, v_l = embed_in_batches(lambda s: model.encode_image(images_to_float(images_u8[s].to(device)).to(dtype)),
                                len(images_u8), batch, ("v_h", "v_l"), on_cpu=on_cpu, progress=progress,
                                desc=desc)
    return ImageEmbedding(v_h, v_l)


def embed_texts(model: GXN, tokens: torch.Tensor, lengths: torch.Tensor, device, batch: int | None = 512, *,
                on_cpu: bool = False, progress: bool = False, desc: str = "captions") -> TextEmbedding:
    """Joint-space t_h, t_l (M, E); the per-word states are not kept (they are only for drawing)."""
    model.eval()
    t_h, t_l = embed_in_batches(lambda s: model.encode_text(tokens[s].to(device), lengths[s].to(device)),
                                tokens.shape[0], batch, ("t_h", "t_l"), on_cpu=on_cpu, progress=progress,
                                desc=desc)
    empty = torch.empty(0)
    return TextEmbedding(t_h, t_l, empty, empty)


def embed_split(model: GXN, split: EncodedSplit, device, *, image_batch: int = 256, text_batch: int = 512,
                on_cpu: bool = False, progress: bool = False,
                desc: str = "split") -> tuple[ImageEmbedding, TextEmbedding]:
    """Every image and every caption of an encoded split."""
    images = embed_images(model, split.images, device, image_batch, on_cpu=on_cpu, progress=progress,
                          desc=f"{desc}: images")
    texts = embed_texts(model, split.tokens, split.lengths, device, text_batch, on_cpu=on_cpu, progress=progress,
                        desc=f"{desc}: captions")
    return images, texts


@torch.no_grad()
def split_similarity(model: GXN, split: EncodedSplit, device) -> torch.Tensor:
    """s* of every image against every caption of a split, (N, M) on the CPU."""
    img, txt = embed_split(model, split, device)
    return model.similarity(img, txt).float().cpu()
