"""Evaluate a checkpoint on a split: retrieval, generated captions, generated images (the library of
``python -m lookimagine.evaluate``; the full tier's zero-shot mode is ``full/evaluate_zero_shot.py``).

- Retrieval: R@1/5/10, median and mean rank, rsum, both directions, with every
  caption of an image as its ground truth (the 5-captions protocol).
- Captions (models with the image→text branch): BLEU-4 and CIDEr-D of the
  greedy (or beam) caption of each image against its references.
- Images (models with a text→image branch): R-precision@1 over 100 candidate
  captions, judged by a *separately trained* checkpoint (``judge``), never by
  the generator's own encoders; the judge's R-precision on the real images is
  reported beside it as the ceiling.
"""

from __future__ import annotations

import dataclasses
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from ..config import ModelConfig, TrainConfig, config_hash, from_dict
from ..data import load_dataset
from ..data.batching import EncodedSplit, encode_split
from ..models.checkpoint import load_checkpoint
from ..models.gxn import GXN
from ..data.vocab import tokenize
from .bleu import corpus_bleu
from .captions import reference_sets
from .cider import corpus_cider
from .embedding import embed_images, embed_texts, split_similarity
from .image_metrics import r_precision, r_precision_truth
from .retrieval import caption_keys, evaluate_retrieval, recall_by_type


def code_version() -> str:
    """The package version and, when run from a git checkout, the commit."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        sha = ""
    return f"{__version__}+{sha}" if sha else __version__


def resolve_checkpoint(path: str | Path) -> Path:
    """A run folder (holding best/) or a checkpoint folder → the checkpoint folder."""
    path = Path(path)
    return path / "best" if (path / "best" / "config.json").is_file() else path


def eval_dataset(train_cfg: TrainConfig, split: str):
    """The evaluation split of a run's dataset (emoji: in the run's training art styles; test-style is Noto)."""
    return load_dataset(train_cfg.dataset, split, **train_cfg.dataset_kwargs())


def oracle_similarity(truth: np.ndarray, seed: int = 0) -> np.ndarray:
    """A perfect model: every true pair above every false one, true pairs in random order among themselves."""
    return truth + 0.5 * np.random.default_rng(seed).random(truth.shape)


def retrieval_report(sims: np.ndarray, data: EncodedSplit, dataset, fold_size: int | None = None) -> dict:
    """Every retrieval figure of a split, under its primary protocol.

    protocol "truth" (datasets with a checker, i.e. shapes): a caption's ground truth is every image it is
    true of, and an image's every caption true of it; the text protocol, the oracle under both, and recall
    per caption type are reported beside it. protocol "text": identical caption texts count as ground truth
    for every image they describe (``caption_keys``); on emoji, names are unique per concept.
    """
    owner, keys = data.image_of_caption.numpy(), caption_keys(data.captions)
    text = evaluate_retrieval(sims, owner, fold_size=fold_size, include_ranks=fold_size is None, caption_keys=keys)
    truth = dataset.truth_matrix()
    if truth is None:
        return {"protocol": "text", "retrieval": text}
    oracle = oracle_similarity(truth)
    types = [dataset.caption_type(c) for c in data.captions]
    return {"protocol": "truth",
            "retrieval": evaluate_retrieval(sims, owner, fold_size=fold_size, include_ranks=fold_size is None,
                                            ground_truth=truth),
            "retrieval_text": text,
            "retrieval_by_type": recall_by_type(sims, truth, types),
            "oracle": {"truth": evaluate_retrieval(oracle, owner, ground_truth=truth),
                       "text": evaluate_retrieval(oracle, owner, caption_keys=keys),
                       "by_type": recall_by_type(oracle, truth, types)},
            "truth_stats": {"images_per_caption_mean": float(truth.sum(0).mean()),
                            "images_per_caption_median": float(np.median(truth.sum(0))),
                            "captions_per_image_mean": float(truth.sum(1).mean())}}


@torch.no_grad()
def caption_scores(model: GXN, split: EncodedSplit, vocab, device, beam: int = 1, batch: int = 256) -> dict:
    """Generate one caption per image; BLEU-4 and CIDEr-D against that image's captions."""
    generated = []
    for s in range(0, split.images.shape[0], batch):
        img = embed_images(model, split.images[s:s + batch], device)
        generated += [vocab.decode(t) for t in model.generate_caption(img, beam=beam).tolist()]
    refs = reference_sets(split)
    cands = [" ".join(tokenize(g)) for g in generated]
    cider, _ = corpus_cider(cands, refs)
    bleu = corpus_bleu(cands, refs)
    return {"bleu4": float(bleu[3]) * 100, "bleu": [float(b) * 100 for b in bleu], "cider_d": float(cider) * 100,
            "beam": beam, "examples": [{"id": split.ids[i], "generated": generated[i], "references": refs[i]}
                                       for i in range(min(10, len(generated)))]}


@torch.no_grad()
def image_scores(model: GXN, judge: GXN, judge_vocab, split: EncodedSplit, device, seed: int = 0,
                 max_queries: int = 1000, batch: int = 64, truth: np.ndarray | None = None) -> dict:
    """R-precision@1 of generated images (one per image, from its first caption), judged by ``judge``.

    truth: optional (N_images, M_captions) bool from the dataset's checker; then the truth-aware
    R-precision (``r_precision_truth``) of the imagined and the real images is reported as well."""
    owner = split.image_of_caption.numpy()
    n = min(split.images.shape[0], max_queries)
    first_caption = np.array([np.flatnonzero(owner == i)[0] for i in range(n)])
    gen = torch.Generator(device="cpu").manual_seed(seed)
    fakes = []
    for s in range(0, n, batch):
        rows = first_caption[s:s + batch]
        model.eval()
        txt = model.encode_text(split.tokens[rows].to(device), split.lengths[rows].to(device))
        drawn = model.draw(txt, generator=gen, sample_condition=False) if model.gan is not None else \
            model.draw(txt, generator=gen)
        fakes.append(((drawn.float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8))
    fakes_u8 = torch.cat(fakes)
    # The judge reads the captions with its own vocabulary.
    tokens = [judge_vocab.encode(c) for c in split.captions]
    width = max(len(t) for t in tokens)
    judge_tokens = torch.tensor([t + [0] * (width - len(t)) for t in tokens])
    judge_lengths = torch.tensor([len(t) for t in tokens])
    txt = embed_texts(judge, judge_tokens, judge_lengths, device)
    fake_scores = judge.similarity(embed_images(judge, fakes_u8, device), txt).cpu().numpy()
    real_scores = judge.similarity(embed_images(judge, split.images[:n], device), txt).cpu().numpy()
    # Pools never hold a caption identical in text to the true one (emoji: the same name in another style).
    args = dict(true_caption=first_caption, n_candidates=100, seed=seed, caption_owner=owner,
                caption_text=caption_keys(split.captions))
    out = {"r_precision": r_precision(fake_scores, **args) * 100,
           "r_precision_real_images": r_precision(real_scores, **args) * 100,
           "n_queries": int(n), "n_candidates": 100}
    if truth is not None:
        fake_truth, chance = r_precision_truth(fake_scores, truth=truth[:n], **args)
        real_truth, _ = r_precision_truth(real_scores, truth=truth[:n], **args)
        out.update(r_precision_truth=fake_truth * 100, r_precision_truth_real_images=real_truth * 100,
                   r_precision_truth_chance=chance * 100)
    return out


def evaluate_checkpoint(checkpoint: str | Path, split: str = "test", judge: str | Path | None = None,
                        device: str = "cpu", beam: int = 1, seed: int = 0, fold_size: int | None = None,
                        command: str = "", data_paths: dict | None = None) -> dict:
    """``data_paths``: TrainConfig fields that say where the data is here (``data_json``, ``image_root``), when they
    differ from the training machine's."""
    start = time.time()
    ckpt = resolve_checkpoint(checkpoint)
    model, vocab, config = load_checkpoint(ckpt, device)
    model_cfg = from_dict(ModelConfig, config["model"])
    train_cfg = dataclasses.replace(from_dict(TrainConfig, config["train"]), **(data_paths or {}))
    dataset = eval_dataset(train_cfg, split)
    data = encode_split(dataset, vocab, image_size=model_cfg.image_size, max_len=train_cfg.max_len)
    sims = split_similarity(model, data, device).numpy()
    result = {
        "command": command, "checkpoint": str(ckpt), "preset": config["meta"].get("preset"),
        "seed": train_cfg.seed, "config_hash": config_hash(model_cfg, train_cfg), "code_version": code_version(),
        "dataset": train_cfg.dataset, "split": split, "n_images": int(data.images.shape[0]),
        "n_captions": int(data.tokens.shape[0]), "selected_epoch": config["meta"].get("epoch"),
        **retrieval_report(sims, data, dataset, fold_size),
        "ids": data.ids,
        "captions": data.captions,
        "image_of_caption": data.image_of_caption.tolist(),
    }
    if model.can_caption:
        result["captioning"] = caption_scores(model, data, vocab, device, beam=beam)
    if model.can_draw and judge is not None:
        judge_model, judge_vocab, judge_config = load_checkpoint(resolve_checkpoint(judge), device)
        result["image_generation"] = {**image_scores(model, judge_model, judge_vocab, data, device, seed=seed,
                                                     truth=dataset.truth_matrix()),
                                      "judge": str(resolve_checkpoint(judge)),
                                      "judge_preset": judge_config["meta"].get("preset")}
    result["seconds"] = round(time.time() - start, 2)
    return result
