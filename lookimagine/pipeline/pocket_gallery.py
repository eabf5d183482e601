"""A gallery: the images and captions a query is matched against, with cached embeddings.

The gallery is a dataset split (the shipped test splits) or a user ``folder``.
Each model's embeddings of it are computed once, in batches with a progress
bar, and cached on disk under a key made of the checkpoint's weights and the
gallery's content; a stale or corrupt cache file is simply rebuilt, and a
cache folder that cannot be written only costs the next start its speed.

Ground truth is by caption *text*: a query caption's ground truth is every
image that has that caption (in ``shapes`` most captions, e.g. "a large
purple star", belong to several images), and a query image's ground truth is
every caption row whose text is one of its captions.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save

from ..data.batching import EncodedSplit, encode_split
from ..data.cache import atomic_write_bytes, cache_dir
from ..data.images import fit_square
from ..data.items import CaptionDataset
from ..models.checkpoint import WEIGHTS, LoadedModel, encode_captions
from ..evaluation.embedding import embed_split
from ..models.gxn import ImageEmbedding, TextEmbedding
from .look_map import LookSpace, embed
from .search import GallerySearch, IndexConfig

log = logging.getLogger(__name__)
#: when a modality of the gallery is matched through a FAISS index instead of an exact scan (``search``)
INDEX = IndexConfig()
#: most entries of a modality the Look map draws; a larger gallery is drawn as a fixed sample + the best matches
DRAWN = 5_000


@dataclass
class GalleryEmbedding:
    """One model's view of the gallery: images (N, E) ×2, captions (M, E) ×2, and both on the Look map."""

    images: ImageEmbedding
    texts: TextEmbedding
    space: LookSpace  # the gallery as ``look_map`` draws it (large galleries: a fixed sample, ``sample``)
    # Large galleries only (``INDEX.exact_below`` entries or more of a modality, cosine models):
    # "images"/"texts" → the modality's joint vectors under a FAISS index (``search.GallerySearch``) ...
    search: dict = dataclasses.field(default_factory=dict)
    # ... and the gallery indices of the entries ``space`` holds (the rest are not drawn)
    sample: dict = dataclasses.field(default_factory=dict)


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


def caption_key(text: str) -> str:
    """How captions are compared for ground truth: case and runs of spaces ignored."""
    return " ".join(text.split()).lower()


def image_key(pixels: np.ndarray) -> str:
    """Hash of an (H, W, 3) uint8 array, for finding a query image in the gallery."""
    return hashlib.sha1(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes()).hexdigest()


class Gallery:
    """Images, captions and each model's cached embeddings of them."""

    def __init__(self, dataset: CaptionDataset, vocab, image_size: int, max_len: int) -> None:
        self.dataset = dataset
        self.vocab, self.image_size, self.max_len = vocab, image_size, max_len
        self.split = encode_split(dataset, vocab, image_size=image_size, max_len=max_len)
        self.hash = content_hash(self.split)
        self._index_captions()
        self.image_hashes = {image_key(self.split.images[i].permute(1, 2, 0).numpy()): i
                             for i in range(self.split.images.shape[0])}

    def _index_captions(self) -> None:
        """Exact-match lookups for ground truth (see the module docstring), from ``self.split``."""
        owner = self.split.image_of_caption.numpy()
        order = np.argsort(owner, kind="stable")  # caption rows grouped by image, in row order within each
        bounds = np.searchsorted(owner[order], np.arange(self.n_images + 1))
        self.captions_of_image = [order[bounds[i]:bounds[i + 1]] for i in range(self.n_images)]
        images_of, rows_of = defaultdict(set), defaultdict(list)
        for r, c in enumerate(self.split.captions):
            images_of[caption_key(c)].add(int(owner[r]))
            rows_of[caption_key(c)].append(r)
        group = {key: g for g, key in enumerate(rows_of)}
        # (M,) one id per distinct caption text: an image query lists each text once (``top_k.rank_distinct``)
        self.caption_group = np.array([group[caption_key(c)] for c in self.split.captions], dtype=np.int64)
        self.group_text = [self.split.captions[rows[0]] for rows in rows_of.values()]  # one text per group id
        self.images_of_caption: dict[str, frozenset[int]] = {c: frozenset(v) for c, v in images_of.items()}
        self.rows_of_caption: dict[str, tuple[int, ...]] = {c: tuple(v) for c, v in rows_of.items()}

    @property
    def n_images(self) -> int:
        return int(self.split.images.shape[0])

    @property
    def n_captions(self) -> int:
        return int(self.split.tokens.shape[0])

    def image(self, index: int):
        from PIL import Image

        return Image.fromarray(self.split.images[index].permute(1, 2, 0).numpy())

    def images_matching_caption(self, text: str) -> set[int]:
        """Ground truth of a text query: every image that has this caption (empty if none)."""
        return set(self.images_of_caption.get(caption_key(text), ()))

    def captions_matching_image(self, image) -> set[int]:
        """Ground truth of an image query: caption rows whose text is one of the image's captions.

        The query is found by its pixels at the gallery's size (``fit_square``, as the gallery was built).
        """
        index = self.index_of_image(image)
        if index is None:
            return set()
        keys = {caption_key(self.split.captions[r]) for r in self.captions_of_image[index]}
        return {r for key in keys for r in self.rows_of_caption[key]}

    def index_of_image(self, image) -> int | None:
        """The gallery index of a query image, found by its pixels at the gallery's size (None: not in it)."""
        return self.image_hashes.get(image_key(np.asarray(fit_square(image, self.image_size))))

    def caption_truth(self, index: int | None) -> np.ndarray | None:
        """(M,) bool: each caption row is true of gallery image ``index``, by the dataset's checker (shapes);
        None where there is no checker or the image is not from the gallery. Each distinct text is checked once."""
        if index is None:
            return None
        truth = self.dataset.truth_of(self.group_text, [index])
        return None if truth is None else np.asarray(truth, dtype=bool)[0][self.caption_group]

    def split_for(self, vocab) -> EncodedSplit:
        """The split with its captions tokenised by ``vocab`` (the gallery's own split when it is the same)."""
        if vocab is None or vocab == self.vocab:
            return self.split
        tokens, lengths = encode_captions(vocab, self.split.captions, self.max_len)
        return dataclasses.replace(self.split, tokens=tokens, lengths=lengths)

    def embeddings(self, loaded: LoadedModel, progress: bool = True, name: str = "model") -> GalleryEmbedding:
        """This model's embeddings of the gallery, from the disk cache when it is fresh.

        The captions are tokenised with the model's own vocabulary.
        """
        from .. import __version__

        weights = loaded.folder / WEIGHTS
        key = hashlib.sha256(f"{file_hash(weights)}|{self.hash}|{__version__}".encode()).hexdigest()[:24]
        path = cache_dir() / "galleries" / f"{key}.safetensors"
        images = texts = None
        if path.is_file():
            images, texts = self._read_cache(path, loaded.model_config.embed_dim)
        if images is None:
            images, texts = embed_split(loaded.model, self.split_for(loaded.vocab), loaded.device, text_batch=256,
                                        on_cpu=True, progress=progress, desc=name)
            self._write_cache(path, images, texts)
        return self._view(loaded, images, texts, path, progress)

    @staticmethod
    def _view(loaded: LoadedModel, images: ImageEmbedding, texts: TextEmbedding, cache: Path | None = None,
              progress: bool = True) -> GalleryEmbedding:
        """The model's view: its Look space, and for a large gallery an index and the sample that is drawn."""
        lam = loaded.model_config.lam
        vectors = {"images": embed(images.v_h.numpy(), images.v_l.numpy(), lam),
                   "texts": embed(texts.t_h.numpy(), texts.t_l.numpy(), lam)}
        search, sample = {}, {}
        for modality, v in vectors.items():
            if len(v) >= INDEX.exact_below and loaded.model_config.similarity == "cosine":
                path = cache.with_name(f"{cache.stem}.{modality}") if cache is not None else None
                search[modality] = GallerySearch.of(v, INDEX, path, progress, desc=f"index {modality}")
            if len(v) > DRAWN:  # the Look map draws a fixed sample of a large gallery (and each query's best)
                sample[modality] = np.sort(np.random.default_rng(0).choice(len(v), DRAWN, replace=False))
                vectors[modality] = v[sample[modality]]
        return GalleryEmbedding(images, texts, LookSpace.of(vectors["images"], vectors["texts"]), search, sample)

    def _read_cache(self, path: Path, dim: int) -> tuple[ImageEmbedding | None, TextEmbedding | None]:
        """Embeddings from a cache file, or (None, None) with a warning when it is unusable."""
        try:
            t = load_file(str(path))
            expected = {"v_h": self.n_images, "v_l": self.n_images, "t_h": self.n_captions, "t_l": self.n_captions}
            for name, rows in expected.items():
                shape = tuple(t[name].shape)
                if shape != (rows, dim) or t[name].dtype != torch.float32:
                    raise ValueError(f"{name} is {t[name].dtype} {shape}, expected float32 {(rows, dim)}")
        except (SafetensorError, OSError, KeyError, ValueError) as e:
            log.warning("gallery cache %s is unusable (%s); rebuilding", path, e)
            return None, None
        return (ImageEmbedding(t["v_h"], t["v_l"]),
                TextEmbedding(t["t_h"], t["t_l"], torch.empty(0), torch.empty(0)))

    @staticmethod
    def _write_cache(path: Path, images: ImageEmbedding, texts: TextEmbedding) -> None:
        """Save embeddings atomically; a cache that cannot be written is only a warning."""
        data = save({"v_h": images.v_h.contiguous(), "v_l": images.v_l.contiguous(),
                     "t_h": texts.t_h.contiguous(), "t_l": texts.t_l.contiguous()})
        try:
            atomic_write_bytes(path, data)
        except OSError as e:
            log.warning("cannot write the gallery cache %s (%s); it will be recomputed next time", path, e)
