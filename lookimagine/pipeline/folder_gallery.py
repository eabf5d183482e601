"""A folder gallery that never holds its pixels: embedded in resumable shards, images decoded when shown.

``Gallery`` decodes the whole split into memory, which is right for the
pocket test splits (a few MB) and wrong for a folder of 100,000 images (1.2
GB of pixels at 64 × 64). ``FolderGallery`` keeps only the captions and ids;
``image(i)`` decodes one image when it is shown, and its embeddings come from
``embed_folder``, which never holds more than one batch of pixels: it walks the folder in shards of ``shard_size`` images, decodes each
shard ``batch`` images at a time, encodes them and their captions, and writes
the shard as ``shard-00000.safetensors`` (one file per shard):

    v_h, v_l    (n, E) float32   the shard's images (abstract, grounded)
    t_h, t_l    (m, E) float32   the captions of those images, in file order
    pixel_sha1  (n, 20) uint8    sha1 of each image's pixels at the model's size
                                 (``pocket_gallery.image_key``: finds a query image in the gallery)

The shards live in ``<cache>/folders/<key>/`` with a ``manifest.json`` that
lists the finished shards; ``key`` covers the weights, the image size, the
caption length and the folder's listing (ids, captions, file sizes and
modification times), so an edited folder or another checkpoint starts afresh.
A restart skips every finished shard and redoes only the rest (a shard file
that is missing or unreadable is redone too).
"""

from __future__ import annotations

import hashlib
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save
from tqdm import tqdm

from ..data.batching import EncodedSplit
from ..data.cache import atomic_write_bytes, atomic_write_json, cache_dir, read_json
from ..data.folder import FolderDataset
from ..data.images import ImageError, fit_square
from ..data.items import CaptionDataset
from ..evaluation.embedding import embed_images, embed_in_batches
from ..models.checkpoint import WEIGHTS, LoadedModel, encode_captions
from ..models.gxn import ImageEmbedding, TextEmbedding
from .pocket_gallery import Gallery, GalleryEmbedding, file_hash

log = logging.getLogger(__name__)

FORMAT = "lookimagine-folder-shards-v1"
SHARD_SIZE = 2048  # images per shard file
IMAGE_FIELDS = ("v_h", "v_l", "pixel_sha1")  # one row per image; the rest, t_h and t_l, one per caption
BATCH = 128  # images decoded and encoded at once


@dataclass
class FolderEmbedding:
    """A model's embeddings of a whole folder gallery (N images, M captions)."""

    v_h: torch.Tensor  # (N, E)
    v_l: torch.Tensor  # (N, E)
    t_h: torch.Tensor  # (M, E)
    t_l: torch.Tensor  # (M, E)
    pixel_sha1: list[str]  # (N,) hex sha1 of each image's pixels at the model's size


class FolderGallery(Gallery):
    """A ``Gallery`` over a folder whose pixels stay on disk (see the module docstring).

    ``split.images`` is empty, (0, 3, S, S); ``image(i)`` decodes image ``i``;
    ``image_hashes`` (ground truth for an image query) comes from the shards'
    pixel hashes once a model has embedded the gallery.
    """

    def __init__(self, dataset: FolderDataset, vocab, image_size: int, max_len: int,
                 shard_root: Path | None = None) -> None:
        self.dataset = dataset
        self.vocab, self.image_size, self.max_len = vocab, image_size, max_len
        self.shard_root = shard_root
        captions = [c for i in range(len(dataset)) for c in dataset.captions_of(i)]
        owner = [i for i in range(len(dataset)) for _ in dataset.captions_of(i)]
        self.split = EncodedSplit(images=torch.empty((0, 3, image_size, image_size), dtype=torch.uint8),
                                  tokens=torch.empty((len(captions), 0), dtype=torch.long),  # tokenised per model
                                  lengths=torch.zeros(len(captions), dtype=torch.long),
                                  image_of_caption=torch.tensor(owner, dtype=torch.long), captions=captions,
                                  ids=[dataset.id_of(i) for i in range(len(dataset))])
        self.hash = listing_key(dataset)[:16]
        self._index_captions()
        self.image_hashes: dict[str, int] = {}

    @property
    def n_images(self) -> int:
        return len(self.split.ids)

    def image(self, index: int):
        from PIL import Image

        return Image.fromarray(_pixels(self.dataset, index, self.image_size))

    def embeddings(self, loaded: LoadedModel, progress: bool = True, name: str = "model") -> GalleryEmbedding:
        """This model's embeddings, from its shards (finished ones reused, the rest embedded now)."""
        folder = shard_folder(loaded, self.dataset, file_hash(loaded.folder / WEIGHTS), self.shard_root)
        emb = embed_folder(loaded, self.dataset, folder, progress=progress, desc=name)
        if not self.image_hashes:
            self.image_hashes = {key: i for i, key in enumerate(emb.pixel_sha1)}
        empty = torch.empty(0)
        return self._view(loaded, ImageEmbedding(emb.v_h, emb.v_l), TextEmbedding(emb.t_h, emb.t_l, empty, empty),
                          folder / "index", progress)  # a large folder's FAISS index sits beside its shards


def listing_key(dataset: FolderDataset) -> str:
    """sha256 of the gallery's listing: ids, captions, and the files' sizes and modification times."""
    h = hashlib.sha256()
    for i in range(len(dataset)):
        stat = dataset.file_of(i).stat()
        h.update(f"{dataset.id_of(i)}\0{chr(31).join(dataset.captions_of(i))}\0{stat.st_size}:{stat.st_mtime_ns}\n"
                 .encode())
    return h.hexdigest()


def shard_folder(loaded: LoadedModel, dataset: FolderDataset, weights_hash: str, root: Path | None = None) -> Path:
    """Where this model's shards of this gallery live."""
    parts = f"{weights_hash}|{loaded.model_config.image_size}|{loaded.max_len}|{listing_key(dataset)}"
    key = hashlib.sha256(parts.encode()).hexdigest()[:24]
    return (root if root is not None else cache_dir() / "folders") / key


@torch.no_grad()
def embed_folder(loaded: LoadedModel, dataset: CaptionDataset, folder: Path, *, shard_size: int = SHARD_SIZE,
                 batch: int = BATCH, progress: bool = True, desc: str = "folder",
                 on_shard: Callable[[int], None] | None = None) -> FolderEmbedding:
    """Embed every image and caption of ``dataset`` with ``loaded``, shard by shard into ``folder``.

    Finished shards (listed in ``folder/manifest.json`` and readable) are
    skipped. ``on_shard(i)`` is called after shard ``i`` is written (a hook
    for progress reports, and for tests that interrupt the run).
    """
    n = len(dataset)
    shards = [(s, min(s + shard_size, n)) for s in range(0, n, shard_size)]
    manifest_path = folder / "manifest.json"
    header = {"format": FORMAT, "n_images": n, "shard_size": shard_size}
    done = _finished_shards(manifest_path, header)
    bar = tqdm(total=n, desc=f"{desc}: embedding images", unit="img", disable=not progress, file=sys.stderr)
    first_caption = np.cumsum([0] + [len(dataset.captions_of(i)) for i in range(n)])  # (N + 1,) caption rows
    out: dict[str, torch.Tensor] = {}  # filled shard by shard, so the shards are never held twice
    for i, (start, stop) in enumerate(shards):
        path = folder / f"shard-{i:05d}.safetensors"
        part = _read_shard(path, stop - start) if i in done else None
        if part is None:
            part = _embed_shard(loaded, dataset, start, stop, batch)
            atomic_write_bytes(path, save(part))
            done.add(i)
            atomic_write_json(manifest_path, {**header, "done": sorted(done)})
            if on_shard is not None:
                on_shard(i)
        for name, tensor in part.items():
            a, b, total = ((start, stop, n) if name in IMAGE_FIELDS
                           else (first_caption[start], first_caption[stop], first_caption[-1]))
            if name not in out:
                out[name] = torch.empty((int(total), *tensor.shape[1:]), dtype=tensor.dtype)
            out[name][a:b] = tensor
        bar.update(stop - start)
    bar.close()
    return FolderEmbedding(out["v_h"], out["v_l"], out["t_h"], out["t_l"],
                           [bytes(row).hex() for row in out["pixel_sha1"].numpy()])


def _finished_shards(manifest_path: Path, header: dict) -> set[int]:
    """Shards the manifest lists as finished, when it describes the same run (else none)."""
    try:
        manifest = read_json(manifest_path)
    except (OSError, ValueError):
        return set()
    if {k: manifest.get(k) for k in header} != header:
        return set()
    return {int(i) for i in manifest.get("done", [])}


def _read_shard(path: Path, n_images: int) -> dict[str, torch.Tensor] | None:
    """A finished shard's tensors, or None (redo it) when the file is missing, truncated or the wrong size."""
    try:
        part = load_file(str(path))
        if part["v_h"].shape[0] != n_images or part["pixel_sha1"].shape != (n_images, 20):
            raise ValueError(f"holds {part['v_h'].shape[0]} images, expected {n_images}")
        return part
    except (SafetensorError, OSError, KeyError, ValueError) as e:
        log.warning("shard %s is unusable (%s); embedding it again", path, e)
        return None


def _embed_shard(loaded: LoadedModel, dataset: CaptionDataset, start: int, stop: int,
                 batch: int) -> dict[str, torch.Tensor]:
    """Images ``start:stop`` and their captions → the shard's tensors; pixels held one batch at a time.

    The captions are encoded in the images' batches: those of each ``batch`` images together.
    """
    model, device = loaded.model, loaded.device
    pixels = _DecodedImages(dataset, start, stop, loaded.model_config.image_size)
    images = embed_images(model, pixels, device, batch, on_cpu=True)

    def captions(rows: slice):
        texts = [c for i in range(start + rows.start, min(start + rows.stop, stop)) for c in dataset.captions_of(i)]
        tokens, lengths = encode_captions(loaded.vocab, texts, loaded.max_len)
        return model.encode_text(tokens.to(device), lengths.to(device))

    t_h, t_l = embed_in_batches(captions, stop - start, batch, ("t_h", "t_l"), on_cpu=True)
    return {"v_h": images.v_h, "v_l": images.v_l, "t_h": t_h, "t_l": t_l,
            "pixel_sha1": torch.from_numpy(np.stack(pixels.sha1))}


class _DecodedImages:
    """Images ``start:stop`` of a dataset as (B, 3, S, S) uint8 batches, decoded only when sliced; ``sha1``
    collects each decoded image's pixel hash ((20,) uint8), in order."""

    def __init__(self, dataset: CaptionDataset, start: int, stop: int, size: int) -> None:
        self.dataset, self.start, self.stop, self.size = dataset, start, stop, size
        self.sha1: list[np.ndarray] = []

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, rows: slice) -> torch.Tensor:
        indices = range(self.start + rows.start, min(self.start + rows.stop, self.stop))
        pixels = np.stack([_pixels(self.dataset, i, self.size) for i in indices])  # (B, S, S, 3)
        self.sha1 += [np.frombuffer(hashlib.sha1(p.tobytes()).digest(), dtype=np.uint8) for p in pixels]
        return torch.from_numpy(pixels).permute(0, 3, 1, 2)


def _pixels(dataset: CaptionDataset, index: int, size: int) -> np.ndarray:
    """(S, S, 3) uint8 of one image; an image that no longer decodes is embedded as white, with a warning."""
    try:
        return np.asarray(fit_square(dataset.load_image(index), size))
    except (ImageError, OSError) as e:
        log.warning("%s: cannot decode (%s); embedded as a white image", dataset.id_of(index), e)
        return np.full((size, size, 3), 255, dtype=np.uint8)
