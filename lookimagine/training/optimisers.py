"""GXN's module groups, each with its own Adam and its own gradient clip, and the GAN's discriminator.

Clipping per group keeps one branch's large gradient (the GAN's, norm ~50) from shrinking every other
branch's step, as one joint clip did.
"""

from __future__ import annotations

import torch

from ..config import ModelConfig, TrainConfig
from ..models.gxn import GXN
from ..models.t2i_gan import Discriminator
from .schedules import base_lr, betas

# Module groups of GXN: each has its own optimiser and its own gradient clip.
GROUPS = {"encoders": ("image_encoder", "text_encoder"), "caption_decoder": ("caption_decoder",),
          "generator": ("cond_aug", "gan", "z_encoder"), "diffusion": ("diffusion",)}


def group_parameters(model: GXN) -> dict[str, list[torch.nn.Parameter]]:
    """{group: its trainable parameters}, for the groups this model has (frozen open_clip blocks are left out)."""
    out = {}
    for group, names in GROUPS.items():
        params = [p for n in names if getattr(model, n, None) is not None for p in getattr(model, n).parameters()
                  if p.requires_grad]
        if params:
            out[group] = params
    return out


def make_optimisers(model: GXN, cfg: TrainConfig) -> tuple[dict[str, torch.optim.Optimizer], dict[str, list]]:
    """({group: Adam}, {group: its parameters}); ``freeze_encoders`` (stage 2) freezes the encoders and
    leaves them out."""
    groups = group_parameters(model)
    if cfg.freeze_encoders:
        model.image_encoder.requires_grad_(False)
        model.text_encoder.requires_grad_(False)
        groups.pop("encoders")
    opts = {g: torch.optim.Adam(ps, lr=base_lr(cfg, g), betas=betas(g)) for g, ps in groups.items()}
    return opts, groups


def make_discriminator(model_cfg: ModelConfig, cfg: TrainConfig, device: torch.device,
                       memory_format: torch.memory_format) -> tuple[Discriminator, torch.optim.Optimizer]:
    """The matching-aware discriminator at the size the GAN draws, and its Adam (the generator's lr, β1 0.5)."""
    c = model_cfg
    disc = Discriminator(c.embed_dim, c.cond_dim, c.disc_channels, c.draw_size or c.image_size,
                         mbstd_group=c.disc_mbstd).to(device, memory_format=memory_format)
    return disc, torch.optim.Adam(disc.parameters(), lr=base_lr(cfg, "generator"), betas=(0.5, 0.999))


def clip_and_step(opts: dict[str, torch.optim.Optimizer], params: dict[str, list], max_norm: float,
                  sync: bool) -> dict[str, float]:
    """Each group's own gradient clip, then its Adam step; {"clip.<group>": its norm before clipping}.
    ``sync`` False (a micro-batch that only adds up gradients): no clip, as accelerate skips the step."""
    logs = {}
    for group, opt in opts.items():
        if sync:  # per-group clipping, on the summed gradient of an accumulation
            logs[f"clip.{group}"] = float(torch.nn.utils.clip_grad_norm_(params[group], max_norm))
        opt.step()
    return logs
