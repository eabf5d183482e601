"""The diffusion branch's loss: squared error between the UNet's prediction and its target (DDPM; ε, or v
with v-prediction), optionally weighted per sample (min-SNR-γ)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def noise_prediction_loss(predicted: torch.Tensor, target: torch.Tensor,
                          weights: torch.Tensor | None = None) -> torch.Tensor:
    """predicted, target (B, C, H, W); weights (B,) or None → the (weighted) mean squared error."""
    if weights is None:
        return F.mse_loss(predicted, target)
    per_sample = (predicted - target).pow(2).flatten(1).mean(1)
    return (weights * per_sample).mean()
