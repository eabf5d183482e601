"""The diffusion branch's loss: MSE between predicted and true noise (DDPM, ε-prediction)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def noise_prediction_loss(predicted: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(predicted, noise)
