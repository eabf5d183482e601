"""A gallery: the images and captions a query is matched against, with cached embeddings.

The gallery is a dataset split (the shipped test splits) or a user ``folder``.
Each model's embeddings of it are computed once, in batches with a progress
bar, and cached on disk under a key made of the checkpoint's weights and the
gallery's content; a stale or corrupt cache file is simply rebuilt.
"""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from ..data.batching import EncodedSplit, encode_split
from ..data.cache import cache_dir
from ..data.items import CaptionDataset
from ..evaluation.embedding import images_to_float
from ..models.gxn import GXN, ImageEmbedding, TextEmbedding

log = logging.getLogger(__name__)


@dataclass
class GalleryEmbedding:
    """One model's view of the gallery: images (N, E) ×2, captions (M, E) ×2, and a 2-D PCA of both."""

    images: ImageEmbedding
    texts: TextEmbedding
    pca_mean: np.ndarray  # (2E,)
    pca_axes: np.ndarray  # (2E, 2)
    image_xy: np.ndarray  # (N, 2)
    text_xy: np.ndarray  # (M, 2)

    def project(self, vectors: np.ndarray) -> np.ndarray:
        """Concatenated (…, 2E) vectors → (…, 2) on the gallery's principal axes."""
        return (vectors - self.pca_mean) @ self.pca_axes


def content_hash(split: EncodedSplit) -> str:
    h = hashlib.sha256()
    h.update(split.images.numpy().tobytes())
    h.update("\n".join(split.captions).encode())
    h.update(split.image_of_caption.numpy().tobytes())
    return h.hexdigest()[:16]


def file_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def fit_pca(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean (D,) and the top-2 principal axes (D, 2) of rows x (n, D); signs fixed for stable plots."""
    mean = x.mean(0)
    _, _, vt = np.linalg.svd(x - mean, full_matrices=False)
    axes = vt[:2].T
    axes *= np.sign(axes[np.abs(axes).argmax(0), range(2)])  # largest loading positive
    return mean, axes


@torch.no_grad()
def embed_gallery(model: GXN, split: EncodedSplit, device, batch: int = 256, progress: bool = True,
                  desc: str = "gallery") -> tuple[ImageEmbedding, TextEmbedding]:
    model.eval()
    dtype = next(model.parameters()).dtype
    v_h, v_l, t_h, t_l = [], [], [], []
    steps = range(0, split.images.shape[0], batch)
    for s in tqdm(steps, desc=f"{desc}: images", disable=not progress, file=sys.stderr, leave=False):
        img = model.encode_image(images_to_float(split.images[s:s + batch]).to(device, dtype))
        v_h.append(img.v_h.float().cpu()), v_l.append(img.v_l.float().cpu())
    steps = range(0, split.tokens.shape[0], batch)
    for s in tqdm(steps, desc=f"{desc}: captions", disable=not progress, file=sys.stderr, leave=False):
        txt = model.encode_text(split.tokens[s:s + batch].to(device), split.lengths[s:s + batch].to(device))
        t_h.append(txt.t_h.float().cpu()), t_l.append(txt.t_l.float().cpu())
    empty = torch.empty(0)
    return (ImageEmbedding(torch.cat(v_h), torch.cat(v_l)),
            TextEmbedding(torch.cat(t_h), torch.cat(t_l), empty, empty))


class Gallery:
    """Images, captions and each model's cached embeddings of them."""

    def __init__(self, dataset: CaptionDataset, vocab, image_size: int, max_len: int) -> None:
        self.dataset = dataset
        self.split = encode_split(dataset, vocab, image_size=image_size, max_len=max_len)
        self.hash = content_hash(self.split)
        owner = self.split.image_of_caption.numpy()
        self.captions_of_image = [np.flatnonzero(owner == i) for i in range(self.split.images.shape[0])]
        # exact-match lookups for ground truth
        self.image_index_of_caption = {c.strip().lower(): int(owner[r]) for r, c in enumerate(self.split.captions)}
        self.image_hashes = {hashlib.sha1(self.split.images[i].numpy().tobytes()).hexdigest(): i
                             for i in range(self.split.images.shape[0])}

    @property
    def n_images(self) -> int:
        return int(self.split.images.shape[0])

    @property
    def n_captions(self) -> int:
        return int(self.split.tokens.shape[0])

    def image(self, index: int):
        from PIL import Image

        return Image.fromarray(self.split.images[index].permute(1, 2, 0).numpy())

    def embeddings(self, model: GXN, vocab, weights_file: Path, device, progress: bool = True,
                   name: str = "model") -> GalleryEmbedding:
        """This model's embeddings of the gallery, from the disk cache when it is fresh."""
        from .. import __version__

        key = hashlib.sha256(f"{file_hash(weights_file)}|{self.hash}|{__version__}".encode()).hexdigest()[:24]
        path = cache_dir() / "galleries" / f"{key}.safetensors"
        images = texts = None
        if path.is_file():
            try:
                t = load_file(str(path))
                images = ImageEmbedding(t["v_h"], t["v_l"])
                texts = TextEmbedding(t["t_h"], t["t_l"], torch.empty(0), torch.empty(0))
                if images.v_h.shape[0] != self.n_images or texts.t_h.shape[0] != self.n_captions:
                    raise ValueError("size mismatch")
            except (SafetensorError, OSError, KeyError, ValueError) as e:
                log.warning("gallery cache %s is unusable (%s); rebuilding", path, e)
                images = texts = None
        if images is None:
            images, texts = embed_gallery(model, self.split, device, progress=progress, desc=name)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            save_file({"v_h": images.v_h.contiguous(), "v_l": images.v_l.contiguous(),
                       "t_h": texts.t_h.contiguous(), "t_l": texts.t_l.contiguous()}, str(tmp))
            tmp.replace(path)
        img_cat = torch.cat([images.v_h, images.v_l], 1).numpy()
        txt_cat = torch.cat([texts.t_h, texts.t_l], 1).numpy()
        mean, axes = fit_pca(np.concatenate([img_cat, txt_cat]))
        return GalleryEmbedding(images, texts, mean, axes, (img_cat - mean) @ axes, (txt_cat - mean) @ axes)
