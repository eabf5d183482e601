"""Imagine, text → image, the paper's way: a one-stage conditional GAN on t_l.

- Conditioning augmentation (StackGAN): t_c ~ N(μ(φ(t_l)), σ(φ(t_l))), with a
  KL term to N(0, I) (weight 2.0 in the paper).
- Generator: (t_c, z) → 64×64×3 in [-1, 1].
- Matching-aware discriminator: scores (image, t_l) pairs; the losses live in
  ``lookimagine.losses.adversarial``.
"""

from __future__ import annotations

import torch
from torch import nn


class ConditioningAugmentation(nn.Module):
    """t_l (B, E) → t_c (B, C), μ (B, C), logvar (B, C).

    input_scale multiplies t_l before φ, and init_logvar is added to φ's logvar bias at construction.
    Both exist because our t_l is a unit vector (cosine joint space: ~1/√E per entry), unlike StackGAN's
    unnormalised text embedding: with the defaults (1, 0) μ starts ~0.04 against a σ of 1, the text is
    buried in the sampling noise, and a generator trained for a few hundred steps learns to ignore it.
    (φ ends in a LeakyReLU, as StackGAN's does, so a logvar bias of −6 gives σ ≈ exp(−0.6) ≈ 0.55.)
    """

    def __init__(self, embed_dim: int, cond_dim: int, input_scale: float = 1.0, init_logvar: float = 0.0) -> None:
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(embed_dim, 2 * cond_dim), nn.LeakyReLU(0.2))
        self.cond_dim = cond_dim
        self.input_scale = input_scale
        if init_logvar:
            with torch.no_grad():
                self.phi[0].bias[cond_dim:] += init_logvar

    def forward(self, t_l: torch.Tensor, generator: torch.Generator | None = None, sample: bool = True):
        mu, logvar = self.phi(t_l * self.input_scale).chunk(2, dim=-1)
        if not sample:
            return mu, mu, logvar
        eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
        return mu + eps * (0.5 * logvar).exp(), mu, logvar


def up_block(c_in: int, c_out: int) -> nn.Sequential:
    """Nearest ×2 upsampling then 3×3 conv: avoids the checkerboard of transposed convs."""
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
                         nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class NoiseEncoder(nn.Module):
    """q(z | x) of the cVAE-GAN: images (B, 3, S, S) in [-1, 1] → μ, log-variance (B, Z). Four stride-2 convs
    (S → S/16), then a linear layer. The log-variance is clamped to [−8, 2]: unclamped it ran off to 1e35
    nats of KL and then NaN in a scratch run."""

    def __init__(self, noise_dim: int, image_size: int = 64, widths: tuple[int, ...] = (16, 32, 64, 64),
                 text_dim: int = 0) -> None:
        super().__init__()
        layers, c = [], 3
        for w in widths:
            layers += [nn.Conv2d(c, w, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            c = w
        self.conv = nn.Sequential(*layers)
        self.fc = nn.Linear(c * (image_size // 2 ** len(widths)) ** 2 + text_dim, 2 * noise_dim)
        self.text_dim = text_dim

    def forward(self, images: torch.Tensor, text: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """text (B, text_dim): the caption's t_l when built with text_dim > 0 (q(z | x, t))."""
        h = self.conv(images).flatten(1)
        if self.text_dim:
            h = torch.cat([h, text], dim=1)
        mu, logvar = self.fc(h).chunk(2, dim=1)
        return mu, logvar.clamp(-8.0, 2.0)


class Generator(nn.Module):
    """(t_c (B, C), z (B, Z)) → images (B, 3, 64, 64) in [-1, 1]."""

    def __init__(self, cond_dim: int, noise_dim: int, channels: int, image_size: int = 64) -> None:
        super().__init__()
        n_up = (image_size // 4).bit_length() - 1  # 4 → image_size by doublings
        widths = [channels * 2 ** max(3 - i, 0) for i in range(n_up + 1)]  # e.g. 256,128,64,32,32
        self.fc = nn.Sequential(nn.Linear(cond_dim + noise_dim, widths[0] * 16, bias=False),
                                nn.BatchNorm1d(widths[0] * 16), nn.ReLU(inplace=True))
        self.ups = nn.Sequential(*[up_block(widths[i], widths[i + 1]) for i in range(n_up)])
        self.to_rgb = nn.Sequential(nn.Conv2d(widths[-1], 3, 3, padding=1), nn.Tanh())
        self.width0 = widths[0]
        self.noise_dim = noise_dim

    def forward(self, t_c: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(torch.cat([t_c, z], dim=-1)).view(-1, self.width0, 4, 4)
        return self.to_rgb(self.ups(x))


class MinibatchStd(nn.Module):
    """ProGAN's minibatch standard deviation (Karras et al. 2018), StyleGAN's grouping: (B, C, H, W) →
    (B, C + 1, H, W), the extra map each sample's group's feature spread (std over the group, averaged over
    C, H and W). D can then tell a batch of near-copies from a batch as varied as real pictures, which is
    what a collapsed generator draws. Groups of ``group`` samples (fewer when B is not a multiple of it)."""

    def __init__(self, group: int = 4) -> None:
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        g = max(d for d in range(1, min(self.group, b) + 1) if b % d == 0)
        y = x.reshape(g, b // g, c, h, w)  # sample i is member i // (B/g) of group i % (B/g)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (B/g,)
        return torch.cat([x, y.repeat(g)[:, None, None, None].expand(b, 1, h, w)], dim=1)


class Discriminator(nn.Module):
    """Matching-aware: (images (B, 3, 64, 64), t_l (B, E)) → logits (B,), real-and-matching vs not.
    ``mbstd_group`` > 0 appends a minibatch-std map (``MinibatchStd``) to the 4×4 features; 0: none."""

    def __init__(self, embed_dim: int, cond_dim: int, channels: int, image_size: int = 64,
                 mbstd_group: int = 0) -> None:
        super().__init__()
        n_down = (image_size // 4).bit_length() - 1
        layers, c_in = [], 3
        for i in range(n_down):
            c_out = channels * 2 ** min(i, 3)
            layers += [nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=i == 0)]
            if i > 0:
                layers += [nn.BatchNorm2d(c_out)]
            layers += [nn.LeakyReLU(0.2, inplace=True)]
            c_in = c_out
        self.down = nn.Sequential(*layers)  # → (B, c_in, 4, 4)
        self.mbstd = MinibatchStd(mbstd_group) if mbstd_group > 0 else None
        self.text = nn.Sequential(nn.Linear(embed_dim, cond_dim), nn.LeakyReLU(0.2))
        self.joint = nn.Sequential(nn.Conv2d(c_in + (self.mbstd is not None) + cond_dim, c_in, 1),
                                   nn.LeakyReLU(0.2, inplace=True), nn.Conv2d(c_in, 1, 4))

    def forward(self, images: torch.Tensor, t_l: torch.Tensor) -> torch.Tensor:
        x = self.down(images)
        if self.mbstd is not None:
            x = self.mbstd(x)
        text = self.text(t_l)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
        return self.joint(torch.cat([x, text], dim=1)).flatten()
