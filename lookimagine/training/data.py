"""What the trainer reads: the splits, a fresh training set per epoch (shapes), an epoch's batches, the
checker's truth for a batch (the in-batch "negatives" that are in fact true), and captions with a word swapped
that are false of their pictures (the matching critic's hard negatives, shapes)."""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

import numpy as np
import torch
from PIL import Image

from ..config import TrainConfig
from ..data import load_dataset
from ..data.batching import Batch, EncodedSplit, encode_split, epoch_rows, iterate_batches, make_batch
from ..data.framing import cut_out, wild_frame
from ..data.shapes import caption_is_true, swap_a_word
from ..data.vocab import PAD_ID, Vocabulary


def train_dataset(cfg: TrainConfig, epoch: int = 0):
    """The training set of an epoch: shapes with ``fresh_data`` draws a new one each epoch (dataset seed
    1 + epoch; val and test are other seed streams, so they never overlap)."""
    if cfg.dataset == "shapes":
        kwargs = {"n": cfg.n_train} if cfg.n_train else {}
        return load_dataset("shapes", "train", seed=1 + epoch if cfg.fresh_data else 0, **kwargs)
    return load_dataset(cfg.dataset, "train", **cfg.dataset_kwargs())


def load_splits(cfg: TrainConfig, vocab: Vocabulary | None, image_size: int, epoch: int = 0):
    """(vocab, train dataset, encoded train, val dataset, encoded val); the vocabulary comes from train only."""
    train_ds = train_dataset(cfg, epoch)
    val_ds = load_dataset(cfg.dataset, "val", **cfg.dataset_kwargs())
    if vocab is None:
        vocab = Vocabulary.build(train_ds.all_captions())
    train = encode_split(train_ds, vocab, image_size=image_size, max_len=cfg.max_len)
    val = encode_split(val_ds, vocab, image_size=image_size, max_len=cfg.max_len)
    return vocab, train_ds, train, val_ds, val


def fresh_training_set(cfg: TrainConfig, vocab: Vocabulary, image_size: int, epoch: int):
    """(dataset, encoded split) of a new epoch's training set, or None when the epoch keeps the current one."""
    if not (cfg.fresh_data and epoch > 0):
        return None
    dataset = train_dataset(cfg, epoch)
    return dataset, encode_split(dataset, vocab, image_size=image_size, max_len=cfg.max_len)


def framing_drawings(split: EncodedSplit) -> list[Image.Image]:
    """Each training image's drawing cut from its white ground (RGBA, ``cut_out``), once per run: the costly
    half of ``framed_images`` (a flood fill, ~4 ms a picture; framing one afterwards takes ~0.25 ms)."""
    return [cut_out(Image.fromarray(pixels.permute(1, 2, 0).numpy())) for pixels in split.images]


def framed_images(split: EncodedSplit, drawings: list[Image.Image], fraction: float, seed: int,
                  epoch: int) -> torch.Tensor:
    """(N, 3, H, W) uint8: the split's images with ``fraction`` of them, chosen and framed by
    ``numpy.random.default_rng([seed, epoch])``, replaced by a wild framing of their drawing
    (``cfg.framing_augment``). The same seed and epoch give the same pictures, so a resumed run sees them too."""
    rng = np.random.default_rng([seed, epoch])
    n, size = split.images.shape[0], split.images.shape[-1]
    chosen = np.flatnonzero(rng.random(n) < fraction)
    images = split.images.clone()
    for i in chosen.tolist():
        framed = np.asarray(wild_frame(drawings[i], rng, size))  # (H, W, 3) uint8
        images[i] = torch.from_numpy(framed.copy()).permute(2, 0, 1)
    return images


def epoch_batches(split: EncodedSplit, batch_size: int, generator: torch.Generator,
                  accelerator=None, all_captions: bool = False) -> tuple[Iterable[Batch], int]:
    """(the epoch's batches in the order ``generator`` shuffles them, how many there are): one caption drawn
    per image, or every caption row (``all_captions``). Under accelerate, the same rows as a DataLoader
    sharded over the processes: each takes every n-th batch, so ``batch_size`` is per process."""
    rows_per_epoch = split.n_captions if all_captions else split.images.shape[0]
    if accelerator is None:
        batches = iterate_batches(split, batch_size, generator, one_caption_per_image=not all_captions)
        return batches, math.ceil(rows_per_epoch / batch_size)
    rows = epoch_rows(split, generator, one_caption_per_image=not all_captions).tolist()
    loader = torch.utils.data.DataLoader(rows, batch_size=batch_size, shuffle=False,
                                         collate_fn=lambda r: make_batch(split, torch.tensor(r)))
    loader = accelerator.prepare_data_loader(loader, device_placement=False)
    return loader, len(loader)


def true_pairs(cfg: TrainConfig, split: EncodedSplit, dataset, batch: Batch) -> torch.Tensor | None:
    """(B, B) bool: caption j of the batch is true of image i (by the dataset's checker), or None when
    ``mask_true_negatives`` is off or the dataset has no checker."""
    if not cfg.mask_true_negatives:
        return None
    captions = [split.captions[r] for r in batch.caption_index.tolist()]
    truth: np.ndarray | None = dataset.truth_of(captions, batch.image_index.tolist())
    return None if truth is None else torch.from_numpy(truth)


def swapped_captions(split: EncodedSplit, dataset, vocab: Vocabulary, batch: Batch, n: int,
                     rng: random.Random, max_len: int,
                     kinds: str = "shapes") -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Counterfactual captions for the first n pairs of a shapes batch: each caption with one shape noun (or
    colour, ``kinds``) swapped (``data.shapes.swap_a_word``) → tokens (n, T), lengths (n,), valid (n,) bool.
    A row is valid when its caption names such a word and the swapped caption is false of the pair's scene by
    the checker; an invalid row holds the true caption again and must be masked out."""
    rows, valid = [], []
    for r, i in zip(batch.caption_index[:n].tolist(), batch.image_index[:n].tolist()):
        caption = split.captions[r]
        swapped = swap_a_word(caption, rng, kinds)
        ok = swapped is not None and not caption_is_true(swapped, dataset.scene_of(i))
        rows.append(vocab.encode(swapped if ok else caption, max_len=max_len))
        valid.append(ok)
    lengths = torch.tensor([len(r) for r in rows], dtype=torch.long)
    tokens = torch.full((len(rows), int(lengths.max()) if rows else 0), PAD_ID, dtype=torch.long)
    for j, row in enumerate(rows):
        tokens[j, :len(row)] = torch.tensor(row, dtype=torch.long)
    return tokens, lengths, torch.tensor(valid, dtype=torch.bool)
