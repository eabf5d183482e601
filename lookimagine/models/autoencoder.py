"""The pocket image autoencoder of the latent diffusion branch: 64×64 pictures ↔ 16×16×4 latents.

Stable Diffusion's split, at pocket size: an autoencoder, trained once per dataset on the training
images alone (it sees no text, so every seed shares it; ``tools/train_autoencoder.py``), squeezes a
picture into a small latent, and the text-conditioned UNet (``t2i_diffusion.py``) learns to draw in
that latent, where one denoising step costs a sixteenth of a pixel-space one.

A plain deterministic conv autoencoder, like TAESD (diffusers' ``AutoencoderTiny``) but downsampling
at its first layer: ``AutoencoderTiny`` keeps every block at one width and its first block at full
resolution, which cost 2.7 s per training step at batch 64 on one (shared) CPU thread.
``scale`` (a buffer, saved with the weights) brings the latents to unit variance, measured on the
training images after training, as Stable Diffusion's ``scaling_factor`` does.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1),
                                  nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class LatentAutoencoder(nn.Module):
    """images (B, 3, S, S) in [-1, 1] ↔ latents (B, latent_channels, S/2^k, S/2^k), k = len(channels)."""

    def __init__(self, channels: tuple[int, ...] = (32, 64), latent_channels: int = 4) -> None:
        super().__init__()
        self.channels, self.latent_channels = tuple(channels), latent_channels
        enc: list[nn.Module] = []
        c_in = 3
        for c in channels:  # each level halves the side: conv stride 2, then a residual block
            enc += [nn.Conv2d(c_in, c, 3, stride=2, padding=1), _Residual(c)]
            c_in = c
        enc += [nn.SiLU(), nn.Conv2d(c_in, latent_channels, 1)]
        self.encoder = nn.Sequential(*enc)
        dec: list[nn.Module] = [nn.Conv2d(latent_channels, channels[-1], 3, padding=1)]
        rev = list(channels[::-1]) + [channels[0]]
        for c, c_next in zip(rev[:-1], rev[1:]):  # each level doubles the side
            dec += [_Residual(c), nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c, c_next, 3, padding=1)]
        dec += [nn.SiLU(), nn.Conv2d(channels[0], 3, 3, padding=1)]  # linear: a tanh saturates on white grounds
        self.decoder = nn.Sequential(*dec)
        self.register_buffer("scale", torch.ones(()))  # latents × scale have unit variance on training images

    @property
    def factor(self) -> int:
        """How many pixels one latent cell spans along a side."""
        return 2 ** len(self.channels)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """images (B, 3, S, S) in [-1, 1] → scaled latents (B, C, S/f, S/f)."""
        return self.encoder(images) * self.scale

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        """scaled latents (B, C, s, s) → images (B, 3, s·f, s·f), clamped to [-1, 1]."""
        return self.decoder(latents / self.scale).clamp(-1, 1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """The round trip images → latents → images, unclamped (what the training loss sees)."""
        return self.decoder(self.encoder(images))

    # ---- files: safetensors weights + a JSON config, nothing pickled ------------------
    def save(self, folder: str | Path, meta: dict | None = None) -> None:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        save_file({k: v.contiguous() for k, v in self.state_dict().items()}, str(folder / "autoencoder.safetensors"))
        (folder / "autoencoder.json").write_text(json.dumps(
            {"channels": list(self.channels), "latent_channels": self.latent_channels, **(meta or {})}, indent=1))

    @classmethod
    def load(cls, folder: str | Path) -> "LatentAutoencoder":
        folder = Path(folder)
        cfg = json.loads((folder / "autoencoder.json").read_text())
        model = cls(tuple(cfg["channels"]), cfg["latent_channels"])
        model.load_state_dict(load_file(str(folder / "autoencoder.safetensors")))
        return model


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    """Peak signal-to-noise ratio in dB of images in [-1, 1] (peak-to-peak 2), over the whole batch."""
    mse = (a.detach().float() - b.detach().float()).pow(2).mean().clamp_min(1e-12)
    return float(10 * torch.log10(4.0 / mse))
