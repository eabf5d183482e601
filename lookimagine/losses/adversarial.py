"""The matching-aware GAN losses of GXN's text→image branch (after GAN-INT-CLS / StackGAN).

The discriminator accepts (real image, its text) and rejects (fake image, the
text) and (real image, a wrong text), the two rejections weighted 0.5 each.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(real_true: torch.Tensor, fake_true: torch.Tensor, real_wrong: torch.Tensor) -> torch.Tensor:
    """Logits (B,) for each pair type → scalar loss for the discriminator."""
    ones, zeros = torch.ones_like(real_true), torch.zeros_like(real_true)
    return (F.binary_cross_entropy_with_logits(real_true, ones)
            + 0.5 * F.binary_cross_entropy_with_logits(fake_true, zeros)
            + 0.5 * F.binary_cross_entropy_with_logits(real_wrong, zeros))


def generator_loss(fake_true: torch.Tensor) -> torch.Tensor:
    """Non-saturating generator loss: make (fake, true text) look real."""
    return F.binary_cross_entropy_with_logits(fake_true, torch.ones_like(fake_true))


def kl_loss(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, σ²) ‖ N(0, I)) of conditioning augmentation, mean over the batch."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(-1).mean()
