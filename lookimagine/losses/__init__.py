"""Losses take tensors and return scalars; they hold no parameters."""

from .adversarial import discriminator_loss, generator_loss, kl_loss
from .captioning import caption_xe, self_critical
from .diffusion import noise_prediction_loss
from .ranking import ranking_loss

__all__ = ["ranking_loss", "caption_xe", "self_critical", "discriminator_loss", "generator_loss", "kl_loss",
           "noise_prediction_loss"]
