"""Turn a ``CaptionDataset`` and a ``Vocabulary`` into tensors for training and evaluation.

``encode_split`` decodes every image once (``fit_square``) and tokenises
every caption, keeping the whole split in memory as uint8 images and padded
ids — the pocket datasets are a few MB, so training never touches PIL again.

Two ways to batch it:
  * ``iterate_batches`` — the training sampler: one epoch is a random
    permutation of the images, each with one random caption of its own, so a
    batch never holds two captions of the same image (the hinge ranking loss
    with in-batch negatives, paper Eq. 1, would otherwise treat a true pair as
    a negative).
  * ``PairDataset`` + ``collate_pairs`` — every caption row once, for a
    ``torch.utils.data.DataLoader`` (evaluation, or training over all pairs).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from tqdm.auto import tqdm

from .images import fit_square, images_to_float
from .items import CaptionDataset
from .vocab import PAD_ID, Vocabulary


@dataclass
class EncodedSplit:
    """A whole split as tensors (N images, M captions, T = longest caption).

    images:           uint8 (N, 3, H, W).
    tokens:           long (M, T): <bos> w1 .. wn <eos>, right-padded with <pad> = 0.
    lengths:          long (M,): ids per caption, <bos> and <eos> included.
    image_of_caption: long (M,): the image index of each caption row.
    captions:         the M caption strings (as in the dataset, before tokenising).
    ids:              the N item ids.
    """

    images: torch.Tensor
    tokens: torch.Tensor
    lengths: torch.Tensor
    image_of_caption: torch.Tensor
    captions: list[str]
    ids: list[str]

    @property
    def n_images(self) -> int:
        return self.images.shape[0]

    @property
    def n_captions(self) -> int:
        return self.tokens.shape[0]


@dataclass
class Batch:
    """A training or evaluation batch of B (image, caption) pairs.

    images:      float (B, 3, H, W) in [-1, 1].
    tokens:      long (B, T), T = the longest caption in the batch.
    lengths:     long (B,).
    image_index: long (B,): the image of each pair in its ``EncodedSplit``.
    caption_index: long (B,): the caption row of each pair (None when batched from ``PairDataset`` items).
    """

    images: torch.Tensor
    tokens: torch.Tensor
    lengths: torch.Tensor
    image_index: torch.Tensor
    caption_index: torch.Tensor | None = None

    def to(self, device: torch.device | str) -> Batch:
        moved = (t.to(device) for t in (self.images, self.tokens, self.lengths, self.image_index))
        return Batch(*moved, caption_index=self.caption_index)


def encode_split(
    dataset: CaptionDataset, vocab: Vocabulary, image_size: int = 64, max_len: int = 32, progress: bool = False
) -> EncodedSplit:
    """Decode each image once at ``image_size`` and encode every caption (at most ``max_len`` ids)."""
    n = len(dataset)
    images = np.empty((n, image_size, image_size, 3), dtype=np.uint8)  # (N, H, W, 3)
    rows: list[list[int]] = []
    captions: list[str] = []
    image_of_caption: list[int] = []
    for i in tqdm(range(n), desc=f"encoding {dataset.name}/{dataset.split}", disable=not progress):
        images[i] = np.asarray(fit_square(dataset.load_image(i), image_size))
        for caption in dataset.captions_of(i):
            rows.append(vocab.encode(caption, max_len=max_len))
            captions.append(caption)
            image_of_caption.append(i)

    width = max((len(r) for r in rows), default=0)
    tokens = torch.full((len(rows), width), PAD_ID, dtype=torch.long)
    for j, row in enumerate(rows):
        tokens[j, : len(row)] = torch.tensor(row, dtype=torch.long)
    return EncodedSplit(
        images=torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(),
        tokens=tokens,
        lengths=torch.tensor([len(r) for r in rows], dtype=torch.long),
        image_of_caption=torch.tensor(image_of_caption, dtype=torch.long),
        captions=captions,
        ids=[dataset.id_of(i) for i in range(n)],
    )


def make_batch(encoded: EncodedSplit, rows: torch.Tensor) -> Batch:
    """The pairs at caption ``rows``, tokens trimmed to the longest of them."""
    image_index = encoded.image_of_caption[rows]
    lengths = encoded.lengths[rows]
    width = int(lengths.max()) if len(rows) else 0
    return Batch(
        images=images_to_float(encoded.images[image_index]),
        tokens=encoded.tokens[rows, :width],
        lengths=lengths,
        image_index=image_index,
        caption_index=rows,
    )


class PairDataset(torch.utils.data.Dataset):
    """Every caption row of an ``EncodedSplit`` as (image, tokens, length, image index).

    image: float (3, H, W) in [-1, 1]; tokens: long (T,) padded to the split's T;
    length and image index: long scalars. Batch with ``collate_pairs``.
    """

    def __init__(self, encoded: EncodedSplit):
        self.encoded = encoded

    def __len__(self) -> int:
        return self.encoded.n_captions

    def __getitem__(self, row: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        e = self.encoded
        image = e.image_of_caption[row]
        return images_to_float(e.images[image]), e.tokens[row], e.lengths[row], image


def collate_pairs(batch: list[tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]]) -> Batch:
    """Stack ``PairDataset`` items into a ``Batch``; tokens trimmed to the longest caption."""
    images, tokens, lengths, image_index = zip(*batch)
    lengths = torch.stack(lengths)
    return Batch(
        images=torch.stack(images),
        tokens=torch.stack(tokens)[:, : int(lengths.max())],
        lengths=lengths,
        image_index=torch.stack(image_index),
    )


def epoch_rows(encoded: EncodedSplit, generator: torch.Generator, one_caption_per_image: bool = True) -> torch.Tensor:
    """The caption rows of one shuffled epoch, in batch order (see ``iterate_batches``)."""
    if one_caption_per_image:
        # Caption rows grouped by image: rows of image i are order[start[i] : start[i] + count[i]].
        order = torch.argsort(encoded.image_of_caption, stable=True)
        count = torch.bincount(encoded.image_of_caption, minlength=encoded.n_images)
        start = torch.cumsum(count, 0) - count
        images = torch.nonzero(count > 0).flatten()
        images = images[torch.randperm(len(images), generator=generator)]
        offset = (torch.rand(len(images), generator=generator) * count[images]).long()
        return order[start[images] + torch.minimum(offset, count[images] - 1)]
    return torch.randperm(encoded.n_captions, generator=generator)


def iterate_batches(
    encoded: EncodedSplit,
    batch_size: int,
    generator: torch.Generator,
    one_caption_per_image: bool = True,
    drop_last: bool = False,
) -> Iterator[Batch]:
    """One shuffled epoch of batches, deterministic given ``generator``.

    one_caption_per_image=True: a random permutation of the images (those with
    at least one caption), each paired with one of its captions drawn at
    random — so no batch holds the same image twice. False: a random
    permutation of all caption rows.
    drop_last: skip a final batch smaller than ``batch_size``.
    Call again for the next epoch; the generator's state moves on.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    rows = epoch_rows(encoded, generator, one_caption_per_image)
    stop = len(rows) - len(rows) % batch_size if drop_last else len(rows)
    for begin in range(0, stop, batch_size):
        yield make_batch(encoded, rows[begin : begin + batch_size])
