"""How well a text→image branch imagines, read by an independent judge (issue 21's bars).

For one checkpoint with a text→image branch and one judge (a retrieval model of another seed, trained to
convergence on val), on a split:

- ``r_precision``: AttnGAN's R-precision@1 of one imagined picture per image (from its first caption) over
  100 candidate captions (``image_metrics``; never a caption identical in text to the true one), and the same
  for the real images (``r_precision_real``): the ceiling this judge can read;
- shapes: the truth-aware variant of both (a hit: the best candidate true of the scene beats every false one),
  and a perfect sampler's: for each caption, a real *training* scene that the checker says it is true of;
- ``probe``: the conditioning probe (the share of the pictures' variance that the text explains);
- ``diversity_ratio``: for captions true of many training scenes, the mean pairwise pixel distance among 4
  imagined samples (seeds 0..3) over that among 4 of those training scenes drawn at random (emoji: its
  training styles' drawings of that emoji);
- ``reconstruction`` (latent diffusion): the autoencoder's PSNR on the split's real images and the judge's
  R-precision of the reconstructions, the ceiling of anything drawn through that decoder.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch

from ..data.batching import EncodedSplit
from ..models.gxn import GXN
from .embedding import embed_images, embed_texts
from .image_metrics import r_precision, r_precision_truth
from .retrieval import caption_keys


def to_u8(images: torch.Tensor) -> torch.Tensor:
    """Pictures in [-1, 1] → uint8 0..255, as they are shown."""
    return ((images.float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)


def tokens_of(vocab, captions: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Captions → padded token ids (N, T) and lengths (N,) in ``vocab``."""
    tokens = [vocab.encode(c) for c in captions]
    width = max(len(t) for t in tokens)
    return torch.tensor([t + [0] * (width - len(t)) for t in tokens]), torch.tensor([len(t) for t in tokens])


def judge_text(judge: GXN, judge_vocab, captions: list[str]):
    """The judge's embedding of captions, read with its own vocabulary."""
    return embed_texts(judge, *tokens_of(judge_vocab, captions), "cpu")


@torch.no_grad()
def imagine(model: GXN, split: EncodedSplit, rows: np.ndarray, seed: int = 0, batch: int = 100) -> torch.Tensor:
    """One imagined picture (uint8 (N, 3, S, S)) for each caption row, drawn with one seeded generator."""
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out = []
    for s in range(0, len(rows), batch):
        r = torch.as_tensor(rows[s:s + batch])
        txt = model.encode_text(split.tokens[r], split.lengths[r])
        drawn = model.draw(txt, generator=gen, sample_condition=False) if model.gan is not None else \
            model.draw(txt, generator=gen)
        out.append(to_u8(drawn))
    return torch.cat(out)


def first_captions(split: EncodedSplit, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(the first caption row of each of the first n images, caption → image owner array)."""
    owner = split.image_of_caption.numpy()
    return np.array([np.flatnonzero(owner == i)[0] for i in range(n)]), owner


def precision_figures(scores: np.ndarray, first: np.ndarray, owner: np.ndarray, keys: np.ndarray,
                      truth: np.ndarray | None, prefix: str = "") -> dict:
    """R-precision (and, with truth, truth-aware R-precision and its chance level) in percent."""
    args = dict(true_caption=first, n_candidates=100, seed=0, caption_owner=owner, caption_text=keys)
    out = {f"{prefix}r_precision": r_precision(scores, **args) * 100}
    if truth is not None:
        hit, chance = r_precision_truth(scores, truth=truth, **args)
        out[f"{prefix}r_precision_truth"] = hit * 100
        out["r_precision_truth_chance"] = chance * 100
    return out


def mean_pairwise_distance(images: torch.Tensor) -> float:
    """Mean RMS pixel distance (pixels in [0, 1]) over the pairs of a stack of pictures (K, 3, S, S) uint8."""
    x = images.float().div(255).flatten(1)
    pairs = list(itertools.combinations(range(x.shape[0]), 2))
    return float(np.mean([(x[i] - x[j]).pow(2).mean().sqrt().item() for i, j in pairs]))


@torch.no_grad()
def diversity_ratio(model: GXN, vocab, captions: list[str], true_images: list[torch.Tensor],
                    n_samples: int = 4) -> dict:
    """captions: K texts; true_images: for each, a stack (≥2, 3, S, S) uint8 of training pictures it is true
    of. Returns the ratio of the samples' mean pairwise distance to the true pictures', and both."""
    tokens, lengths = tokens_of(vocab, captions)
    txt = model.eval().encode_text(tokens, lengths)
    samples = torch.stack([to_u8(model.draw(txt, generator=torch.Generator().manual_seed(seed)))
                           for seed in range(n_samples)], 1)  # (K, n_samples, 3, S, S)
    drawn = float(np.mean([mean_pairwise_distance(s) for s in samples]))
    real = float(np.mean([mean_pairwise_distance(t) for t in true_images]))
    return {"diversity_ratio": drawn / real if real > 0 else float("nan"), "samples_distance": drawn,
            "true_distance": real, "n_captions": len(captions), "n_samples": n_samples}


def judge_figures(judge: GXN, judge_vocab, split: EncodedSplit, images_u8: dict[str, torch.Tensor],
                  n: int, truth: np.ndarray | None) -> dict:
    """Every picture set in ``images_u8`` (name → (n, 3, S, S) uint8, one per image, from its first caption)
    read by the judge: {name: figures}."""
    first, owner = first_captions(split, n)
    keys = caption_keys(split.captions)
    txt = judge_text(judge, judge_vocab, split.captions)
    out = {}
    for name, images in images_u8.items():
        scores = judge.similarity(embed_images(judge, images, "cpu"), txt).cpu().numpy()
        out[name] = precision_figures(scores, first, owner, keys, truth[:n] if truth is not None else None)
    return out
