"""Imagine, text → image, the diffusion alternative, built from ``diffusers`` parts.

A small ``UNet2DConditionModel`` cross-attends to the grounded text states
(the per-word states of the t_l GRU, projected); it is trained with
``DDPMScheduler`` noise (ε-prediction, MSE) and sampled with ``DDIMScheduler``
in a few steps. Conditioning is dropped for 10% of training pairs so that
classifier-free guidance can sharpen samples.

The branch works at ``diffusion_size`` (32×32 by default, to fit the CPU
budget) and upsamples its samples to the model's image size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..config import ModelConfig


class DiffusionT2I(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        from diffusers import DDIMScheduler, DDPMScheduler, UNet2DConditionModel  # heavy: imported on demand

        n = len(cfg.diffusion_channels)
        cross_dim = cfg.diffusion_channels[0]
        self.project = nn.Linear(cfg.text_hidden, cross_dim)  # grounded GRU states → cross-attention context
        self.null = nn.Parameter(torch.zeros(1, 1, cross_dim))  # the "no text" context for guidance
        self.unet = UNet2DConditionModel(
            sample_size=cfg.diffusion_size, in_channels=3, out_channels=3, layers_per_block=1,
            block_out_channels=tuple(cfg.diffusion_channels),
            down_block_types=("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (n - 1),
            up_block_types=("CrossAttnUpBlock2D",) * (n - 1) + ("UpBlock2D",),
            cross_attention_dim=cross_dim, attention_head_dim=8, norm_num_groups=8,
        )
        self.train_scheduler = DDPMScheduler(num_train_timesteps=cfg.diffusion_train_steps,
                                             beta_schedule="squaredcos_cap_v2")
        self.sample_scheduler = DDIMScheduler.from_config(self.train_scheduler.config)
        self.size = cfg.diffusion_size
        self.out_size = cfg.image_size
        self.sample_steps = cfg.diffusion_sample_steps

    def context(self, states: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """GRU states (B, T, H), mask (B, T) → cross-attention context (B, T, D) and its mask."""
        return self.project(states), mask

    def predict_noise(self, images: torch.Tensor, states: torch.Tensor, mask: torch.Tensor,
                      generator: torch.Generator | None = None, drop_prob: float = 0.1):
        """Noise images (B, 3, H, W) in [-1, 1] at random timesteps → (predicted ε, true ε), each (B, 3, s, s).

        The MSE between them is the training loss (``losses.diffusion``); its
        gradient reaches the text states.
        """
        x0 = F.interpolate(images, size=self.size, mode="area")
        ctx, ctx_mask = self.context(states, mask)
        drop = torch.rand(x0.shape[0], generator=generator, device=x0.device) < drop_prob
        if drop.any():
            # 1. Classifier-free guidance: some pairs see only the null context.
            ctx = torch.where(drop[:, None, None], self.null.expand(ctx.shape[0], ctx.shape[1], -1), ctx)
            first = torch.zeros_like(ctx_mask)
            first[:, 0] = True
            ctx_mask = torch.where(drop[:, None], first, ctx_mask)
        noise = torch.randn(x0.shape, generator=generator, device=x0.device)
        t = torch.randint(0, self.train_scheduler.config.num_train_timesteps, (x0.shape[0],),
                          generator=generator, device=x0.device)
        noisy = self.train_scheduler.add_noise(x0, noise, t)
        pred = self.unet(noisy, t, encoder_hidden_states=ctx, encoder_attention_mask=ctx_mask.float()).sample
        return pred, noise

    @torch.no_grad()
    def sample(self, states: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None,
               steps: int | None = None, guidance: float = 2.0) -> torch.Tensor:
        """Text states (B, T, H) → images (B, 3, image_size, image_size) in [-1, 1]."""
        ctx, ctx_mask = self.context(states, mask)
        batch = ctx.shape[0]
        null = self.null.expand(batch, 1, -1)
        null_mask = torch.ones(batch, 1, dtype=ctx_mask.dtype, device=ctx.device)
        # 1. Start from Gaussian noise drawn with the caller's generator (determinism).
        x = torch.randn((batch, 3, self.size, self.size), generator=generator, device=ctx.device)
        self.sample_scheduler.set_timesteps(steps or self.sample_steps)
        for t in self.sample_scheduler.timesteps:
            # 2. Predict the noise with and without the text, and guide.
            eps = self.unet(x, t, encoder_hidden_states=ctx, encoder_attention_mask=ctx_mask.float()).sample
            if guidance != 1.0:
                eps_null = self.unet(x, t, encoder_hidden_states=null, encoder_attention_mask=null_mask.float()).sample
                eps = eps_null + guidance * (eps - eps_null)
            # 3. One deterministic DDIM step (eta = 0).
            x = self.sample_scheduler.step(eps, t, x).prev_sample
        x = x.clamp(-1, 1)
        return F.interpolate(x, size=self.out_size, mode="bilinear", align_corners=False) if self.size != self.out_size else x
