"""What changes with the epoch: the learning rate, γ (the weight of RL in the caption loss), the scheduled
sampling probability; and each module group's base learning rate and Adam betas."""

from __future__ import annotations

import math

import torch

from ..config import TrainConfig

GENERATIVE_GROUPS = ("generator", "diffusion")  # the groups ``gen_lr`` applies to


def base_lr(cfg: TrainConfig, group: str) -> float:
    """The group's learning rate before the schedule: ``gen_lr`` for the generative groups when set, else ``lr``."""
    return cfg.gen_lr if group in GENERATIVE_GROUPS and cfg.gen_lr is not None else cfg.lr


def betas(group: str) -> tuple[float, float]:
    return (0.5, 0.999) if group == "generator" else (0.9, 0.999)  # GANs train with β1 = 0.5 (DCGAN)


def lr_factor(cfg: TrainConfig, epoch: int) -> float:
    """"cosine": ½(1 + cos(π·epoch/epochs)); "step": ×0.1 from ``lr_decay_epoch`` on (1 without one)."""
    if cfg.lr_schedule == "cosine":
        return 0.5 * (1 + math.cos(math.pi * epoch / cfg.epochs))
    return 0.1 if cfg.lr_decay_epoch is not None and epoch >= cfg.lr_decay_epoch else 1.0


def set_learning_rates(opts: dict[str, torch.optim.Optimizer], opt_d: torch.optim.Optimizer | None,
                       cfg: TrainConfig, epoch: int) -> None:
    """Every optimiser's lr for ``epoch``; the discriminator's follows the generator group's."""
    for group, opt in opts.items():
        for pg in opt.param_groups:
            pg["lr"] = base_lr(cfg, group) * lr_factor(cfg, epoch)
    if opt_d is not None:
        for pg in opt_d.param_groups:
            pg["lr"] = base_lr(cfg, "generator") * lr_factor(cfg, epoch)


def rl_weight(cfg: TrainConfig, epoch: int) -> float:
    """γ, the weight of RL in (1−γ)·XE + γ·RL (paper §3.2): 0 before ``rl_start_epoch``, then rising
    linearly ``gamma_start`` → ``gamma_end`` by the last epoch (the paper: 0.05 → 0.95)."""
    if cfg.rl_start_epoch is None or epoch < cfg.rl_start_epoch:
        return 0.0
    span = max(cfg.epochs - 1 - cfg.rl_start_epoch, 1)
    return cfg.gamma_start + (cfg.gamma_end - cfg.gamma_start) * min((epoch - cfg.rl_start_epoch) / span, 1.0)


def scheduled_sampling(cfg: TrainConfig, epoch: int) -> float:
    """Probability of feeding the captioner its own previous word, rising linearly to
    ``scheduled_sampling_max`` over the cross-entropy epochs (those before RL starts)."""
    xe_epochs = cfg.rl_start_epoch if cfg.rl_start_epoch is not None else cfg.epochs
    return cfg.scheduled_sampling_max * min(epoch / max(xe_epochs - 1, 1), 1.0)
