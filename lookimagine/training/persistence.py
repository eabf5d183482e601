"""What a run leaves on disk and reads back: the starting checkpoint of a stage (``init_from``), ``best/``
(the inference checkpoint of the best val rsum), ``last/`` (everything needed to resume: weights,
optimiser moments, the discriminator, RNG states, the history) and ``run.json`` (the run's record).
The flat, pickle-free format of the resumable state is ``state.py``'s."""

from __future__ import annotations

import dataclasses
import json
import math
import resource
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from ..config import ModelConfig, TrainConfig, config_hash, to_dict
from ..data.vocab import Vocabulary
from ..models.checkpoint import save_checkpoint, upgrade_state_dict
from ..models.gxn import GXN
from .state import optimizer_from_flat, optimizer_to_flat, save_state


@dataclass
class TrainingState:
    """Where a run stands after ``epoch`` epochs; saved in ``last/`` and restored on resume."""

    epoch: int = 0
    best_rsum: float = -math.inf
    history: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    stopped_early: bool = False


def run_identity(preset: str, model_cfg: ModelConfig, train_cfg: TrainConfig, command: str) -> dict:
    """What every checkpoint and run record of a run says about it."""
    return {"preset": preset, "seed": train_cfg.seed, "config_hash": config_hash(model_cfg, train_cfg),
            "command": command}


def load_init_weights(model: GXN, init: GXN, init_from: str) -> None:
    """Start a stage from a trained checkpoint: every module it has (the encoders at least) must fit exactly;
    modules it lacks (a new branch) keep their fresh initialisation."""
    state, own = init.state_dict(), model.state_dict()
    bad = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    missing_encoders = [k for k in own if k.startswith(("image_encoder.", "text_encoder.")) and k not in state]
    if bad or missing_encoders or init.cfg.vocab_size != model.cfg.vocab_size:
        raise ValueError(f"init_from {init_from}: does not fit this model "
                         f"(shape mismatches: {bad[:3]}, missing encoder weights: {missing_encoders[:3]})")
    model.load_state_dict({k: v for k, v in state.items() if k in own}, strict=False)


def save_best(out: Path, model: GXN, vocab: Vocabulary, train_cfg: TrainConfig, meta: dict) -> None:
    """``out/best``: the inference checkpoint, replaced whole (written beside it, then renamed)."""
    tmp = out / "best.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    save_checkpoint(tmp, model, vocab, train_cfg, meta)
    shutil.rmtree(out / "best", ignore_errors=True)
    tmp.replace(out / "best")


def save_last(out: Path, model: GXN, vocab: Vocabulary, train_cfg: TrainConfig, meta: dict, state: TrainingState,
              optimizers: dict[str, torch.optim.Optimizer], disc: torch.nn.Module | None,
              gen: torch.Generator, extra: dict[str, torch.Tensor] | None = None) -> None:
    """``out/last``: the checkpoint, and the resumable state (optimiser moments, discriminator, RNG states, and
    ``extra`` tensors such as the UNet's moving average)."""
    last = out / "last"
    save_checkpoint(last, model, vocab, train_cfg, meta)
    tensors, info = {}, dataclasses.asdict(state)
    for name, opt in optimizers.items():
        t, rest = optimizer_to_flat(name, opt)
        tensors.update(t)
        info[name] = rest
    if disc is not None:
        tensors.update({f"disc.{k}": v.detach().cpu().contiguous() for k, v in disc.state_dict().items()})
    tensors["rng.torch"] = torch.get_rng_state()
    tensors["rng.gen"] = gen.get_state()
    tensors.update(extra or {})
    save_state(last, tensors, info)


def restore(out: Path, tensors: dict, info: dict, model: GXN, optimizers: dict[str, torch.optim.Optimizer],
            disc: torch.nn.Module | None, gen: torch.Generator) -> TrainingState:
    """Put a run back where ``save_last`` left it; returns its state."""
    from safetensors.torch import load_file

    model.load_state_dict(upgrade_state_dict(load_file(str(out / "last" / "model.safetensors"))), strict=True)
    for name, opt in optimizers.items():
        optimizer_from_flat(name, opt, tensors, info[name])
    if disc is not None:
        disc.load_state_dict({k[5:]: v for k, v in tensors.items() if k.startswith("disc.")}, strict=True)
    torch.set_rng_state(tensors["rng.torch"])
    gen.set_state(tensors["rng.gen"])
    return TrainingState(info["epoch"], info["best_rsum"], info["history"], info["seconds"],
                         info.get("stopped_early", False))


def run_meta(identity: dict, model_cfg: ModelConfig, train_cfg: TrainConfig, state: TrainingState,
             device: torch.device, accelerator=None) -> dict:
    """The run's record (``run.json``): configs, the best epoch, speed, memory, the per-epoch history."""
    validated = [r for r in state.history if r["val_rsum"] is not None]
    # the epoch best/ holds: the best val rsum, or in stage 2 (frozen encoders, val rsum fixed) the latest
    best = (validated[-1] if train_cfg.freeze_encoders else max(validated, key=lambda r: r["val_rsum"])) if validated else {}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    meta = {**identity, "model": to_dict(model_cfg), "train": to_dict(train_cfg),
            "best_epoch": best.get("epoch"), "best_val_rsum": state.best_rsum,
            "stopped_early": state.stopped_early, "wall_seconds": round(state.seconds, 1),
            "samples_per_second": round(float(np.mean([r["samples_per_second"] for r in state.history])), 1),
            "peak_memory_mb": round(peak_mb, 1), "device": str(device),
            "threads": torch.get_num_threads(), "history": state.history}
    if accelerator is not None:
        meta.update(processes=accelerator.num_processes, mixed_precision=accelerator.mixed_precision,
                    grad_accum=train_cfg.grad_accum)
    return meta


def write_run_meta(out: Path, meta: dict) -> None:
    (out / "run.json").write_text(json.dumps(meta, indent=2))
