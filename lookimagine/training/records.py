"""The end of an epoch: validation R@K, the epoch's record (losses, health, speed), whether it is the best so
far, whether to stop early, and the line printed for it."""

from __future__ import annotations

import numpy as np

from ..config import TrainConfig
from ..data.batching import EncodedSplit
from ..evaluation.embedding import split_similarity
from ..evaluation.retrieval import caption_keys, evaluate_retrieval
from ..models.gxn import GXN

HEALTH_PREFIXES = {"share.": "grad_share", "gradnorm.": "grad_norm"}  # step logs that go to the health record


def validate(model: GXN, split: EncodedSplit, device, truth: np.ndarray | None = None) -> dict:
    """Retrieval scores on an encoded split (model selection uses val rsum), under the dataset's primary
    protocol: the checker's truth where there is one (``truth``), identical caption texts otherwise."""
    sims = split_similarity(model, split, device).numpy()
    if truth is not None:
        return evaluate_retrieval(sims, split.image_of_caption.numpy(), ground_truth=truth)
    return evaluate_retrieval(sims, split.image_of_caption.numpy(), caption_keys=caption_keys(split.captions))


def epoch_record(epoch: int, means: dict[str, float], val: dict | None, conditioning: float | None,
                 seconds: float, n_images: int) -> dict:
    """The history row of epoch ``epoch`` (0-based): mean step logs, val scores (None on an epoch that is not
    validated, ``val_every``), health (gradient shares and norms on the encoders, the conditioning probe), speed
    (``n_images``: the pairs trained)."""
    health = {name: {k[len(prefix):]: v for k, v in means.items() if k.startswith(prefix)}
              for prefix, name in HEALTH_PREFIXES.items()}
    health["conditioning"] = conditioning
    return {"epoch": epoch + 1, **{k: v for k, v in means.items() if not k.startswith(tuple(HEALTH_PREFIXES))},
            "val_rsum": val["rsum"] if val else None, "val_i2t_r1": val["image_to_text"]["r1"] if val else None,
            "val_t2i_r1": val["text_to_image"]["r1"] if val else None, "health": health, "epoch_seconds": seconds,
            "samples_per_second": n_images / max(seconds, 1e-9)}


def is_best(rsum: float, best_rsum: float, cfg: TrainConfig) -> bool:
    """A better val rsum; stage 2 (frozen encoders) cannot change val rsum, so its latest epoch is its best."""
    return rsum > best_rsum or cfg.freeze_encoders


def stops_early(history: list[dict], epochs_done: int, cfg: TrainConfig) -> bool:
    """``early_stop_patience`` epochs have passed since the best val rsum (never in stage 2)."""
    validated = [r for r in history if r["val_rsum"] is not None]
    if cfg.early_stop_patience is None or cfg.freeze_encoders or not validated:
        return False
    best_epoch = max(validated, key=lambda r: r["val_rsum"])["epoch"]
    return epochs_done - best_epoch >= cfg.early_stop_patience


def epoch_line(record: dict, best: bool) -> str:
    """What is printed after an epoch: loss, val rsum and R@1s, time, the gradient shares, the probe."""
    health = record["health"]
    shares = " ".join(f"{k} {v:.0%}" for k, v in health["grad_share"].items())
    cond = f"  cond {health['conditioning']:.2f}" if health["conditioning"] is not None else ""
    val = (f"val rsum {record['val_rsum']:.1f} (i2t R@1 {record['val_i2t_r1']:.1f}, t2i R@1 {record['val_t2i_r1']:.1f})"
           if record["val_rsum"] is not None else "not validated")
    return (f"epoch {record['epoch']}: loss {record.get('loss', 0):.3f}  {val}"
            f"{'  *best*' if best else ''}  {record['epoch_seconds']:.0f}s  [{shares}]{cond}")
