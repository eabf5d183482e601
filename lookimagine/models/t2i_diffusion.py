"""Imagine, text → image, the diffusion alternative, built from ``diffusers`` parts.

A small ``UNet2DConditionModel`` cross-attends to the grounded text states
(the per-word states of the t_l GRU, projected); it is trained with
``DDPMScheduler`` noise (ε-prediction, MSE) and sampled with ``DDIMScheduler``
in a few steps. Conditioning is dropped for 10% of training pairs so that
classifier-free guidance can sharpen samples.

Two spaces (``ModelConfig.diffusion_space``):

* "pixel": the UNet denoises pictures at ``diffusion_size`` (32×32 by default,
  to fit the CPU budget) and its samples are upsampled to the model's image size;
* "latent": Stable Diffusion's split at pocket size. A frozen per-dataset
  autoencoder (``models.autoencoder``, trained once on the training images)
  maps 64×64 pictures to 16×16×4 latents; the UNet denoises latents and the
  decoder draws the picture. The autoencoder is part of the model (and of its
  checkpoint) but never trains here: its parameters do not require gradients.

Options for learning fast on a CPU: v-prediction, and min-SNR-γ weighting of
the per-sample loss (Hang et al., ICCV 2023), both chosen on val.
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
        self.autoencoder = None
        channels, self.size = 3, cfg.diffusion_size
        if cfg.diffusion_space == "latent":
            from .autoencoder import LatentAutoencoder

            self.autoencoder = LatentAutoencoder(cfg.autoencoder_channels, cfg.latent_channels).requires_grad_(False)
            channels, self.size = cfg.latent_channels, cfg.image_size // self.autoencoder.factor
        self.project = nn.Linear(cfg.text_hidden, cross_dim)  # grounded GRU states → cross-attention context
        self.null = nn.Parameter(torch.zeros(1, 1, cross_dim))  # the "no text" context for guidance
        # the GRU states are small (mean |x| ≈ 0.2 on shapes): normalised, the context speaks as loudly as the
        # UNet's own features, as Stable Diffusion's layer-normed CLIP states do
        self.context_norm = nn.LayerNorm(cross_dim) if cfg.diffusion_context_norm else None
        self.unet = UNet2DConditionModel(
            sample_size=self.size, in_channels=channels, out_channels=channels, layers_per_block=1,
            block_out_channels=tuple(cfg.diffusion_channels),
            down_block_types=("DownBlock2D",) + ("CrossAttnDownBlock2D",) * (n - 1),
            up_block_types=("CrossAttnUpBlock2D",) * (n - 1) + ("UpBlock2D",),
            cross_attention_dim=cross_dim, attention_head_dim=8, norm_num_groups=8,
            # the sentence as a whole (masked mean of the context) joins the timestep embedding: a global
            # signal that reaches every ResNet block, beside the word-by-word cross-attention
            **(dict(class_embed_type="projection", projection_class_embeddings_input_dim=cross_dim)
               if cfg.diffusion_pooled else {}),
        )
        self.pooled = cfg.diffusion_pooled
        self.train_scheduler = DDPMScheduler(num_train_timesteps=cfg.diffusion_train_steps,
                                             beta_schedule="squaredcos_cap_v2",
                                             prediction_type=cfg.diffusion_prediction)
        # DDIM clips its x0 estimate to [-1, 1] by default: right for pictures, ruinous for unit-variance latents
        # (most of their mass lies beyond ±1), which it squashes to a faint blur; Stable Diffusion turns it off too
        self.sample_scheduler = DDIMScheduler.from_config(self.train_scheduler.config,
                                                          clip_sample=cfg.diffusion_space == "pixel")
        self.channels = channels
        self.out_size = cfg.image_size
        self.sample_steps = cfg.diffusion_sample_steps
        self.guidance = cfg.diffusion_guidance
        self.drop_prob = cfg.diffusion_cfg_drop
        self.min_snr = cfg.diffusion_min_snr

    def denoise(self, x: torch.Tensor, t, ctx: torch.Tensor, ctx_mask: torch.Tensor) -> torch.Tensor:
        """The UNet's prediction for x (B, C, s, s) at t, given the context (B, T, D) and its float mask (B, T)."""
        pooled = None
        if self.pooled:  # masked mean of the context: the null token alone for a dropped or null text
            pooled = (ctx * ctx_mask[..., None]).sum(1) / ctx_mask.sum(1, keepdim=True).clamp_min(1)
        return self.unet(x, t, encoder_hidden_states=ctx, encoder_attention_mask=ctx_mask, class_labels=pooled).sample

    def to_space(self, images: torch.Tensor) -> torch.Tensor:
        """Pictures (B, 3, H, W) in [-1, 1] → what the UNet denoises: latents (B, C, s, s) or pictures at s×s."""
        if self.autoencoder is not None:
            with torch.no_grad():
                return self.autoencoder.encode(images)
        return F.interpolate(images, size=self.size, mode="area")

    def from_space(self, x: torch.Tensor) -> torch.Tensor:
        """The UNet's space → pictures (B, 3, image_size, image_size) in [-1, 1]."""
        if self.autoencoder is not None:
            return self.autoencoder.decode(x).clamp(-1, 1)
        x = x.clamp(-1, 1)
        return F.interpolate(x, size=self.out_size, mode="bilinear", align_corners=False) if self.size != self.out_size else x

    def loss_weights(self, t: torch.Tensor) -> torch.Tensor | None:
        """Per-sample weights (B,) of the squared error: min-SNR-γ, or None (all ones)."""
        if self.min_snr is None:
            return None
        alphas = self.train_scheduler.alphas_cumprod.to(t.device)[t]
        snr = alphas / (1 - alphas)
        clipped = snr.clamp(max=self.min_snr)
        # ε-prediction: min(SNR, γ)/SNR; v-prediction: min(SNR, γ)/(SNR + 1) (Hang et al., eq. 10 and its v form)
        return clipped / (snr + 1) if self.train_scheduler.config.prediction_type == "v_prediction" else clipped / snr

    def context(self, states: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """GRU states (B, T, H), mask (B, T) → cross-attention context (B, T, D) and its mask."""
        ctx = self.project(states)
        return (self.context_norm(ctx) if self.context_norm is not None else ctx), mask

    def predict_noise(self, images: torch.Tensor, states: torch.Tensor, mask: torch.Tensor,
                      generator: torch.Generator | None = None, drop_prob: float | None = None,
                      x0: torch.Tensor | None = None):
        """Noise images (B, 3, H, W) in [-1, 1] at random timesteps → (prediction, target, weights): the
        prediction and its target (ε, or v with v-prediction), each (B, C, s, s), and per-sample loss weights
        (B,) or None.

        The weighted squared error between them is the training loss (``losses.diffusion``); its gradient
        reaches the text states (never the frozen autoencoder). ``x0``: the images already in the UNet's space
        (the trainer's ``LatentCache``); None: ``to_space(images)``.
        """
        drop_prob = self.drop_prob if drop_prob is None else drop_prob
        x0 = self.to_space(images) if x0 is None else x0
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
        pred = self.denoise(noisy, t, ctx, ctx_mask.float())
        target = self.train_scheduler.get_velocity(x0, noise, t) if self.train_scheduler.config.prediction_type == \
            "v_prediction" else noise
        return pred, target, self.loss_weights(t)

    @torch.no_grad()
    def sample(self, states: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None,
               steps: int | None = None, guidance: float | None = None) -> torch.Tensor:
        """Text states (B, T, H) → images (B, 3, image_size, image_size) in [-1, 1]."""
        return self.from_space(self.sample_latents(states, mask, generator, steps, guidance))

    @torch.no_grad()
    def sample_latents(self, states: torch.Tensor, mask: torch.Tensor, generator: torch.Generator | None = None,
                       steps: int | None = None, guidance: float | None = None) -> torch.Tensor:
        """Text states (B, T, H) → what the UNet draws, before decoding: (B, C, s, s)."""
        guidance = self.guidance if guidance is None else guidance
        ctx, ctx_mask = self.context(states, mask)
        batch = ctx.shape[0]
        null = self.null.expand(batch, 1, -1)
        null_mask = torch.ones(batch, 1, dtype=ctx_mask.dtype, device=ctx.device)
        # 1. Start from Gaussian noise drawn with the caller's generator (determinism).
        x = torch.randn((batch, self.channels, self.size, self.size), generator=generator, device=ctx.device)
        self.sample_scheduler.set_timesteps(steps or self.sample_steps)
        if guidance != 1.0:  # one UNet call for both: the text half, then the null half
            pad = ctx.shape[1] - 1
            both = torch.cat([ctx, F.pad(null, (0, 0, 0, pad))])
            both_mask = torch.cat([ctx_mask.float(), F.pad(null_mask.float(), (0, pad))])
        for t in self.sample_scheduler.timesteps:
            # 2. Predict (ε or v) with and without the text, and guide.
            if guidance != 1.0:
                out = self.denoise(torch.cat([x, x]), t, both, both_mask)
                cond, uncond = out.chunk(2)
                out = uncond + guidance * (cond - uncond)
            else:
                out = self.denoise(x, t, ctx, ctx_mask.float())
            # 3. One deterministic DDIM step (eta = 0).
            x = self.sample_scheduler.step(out, t, x).prev_sample
        return x
