"""The frozen autoencoder's latents of the training pictures, encoded once per picture set, not once a step.

The latent diffusion branch's autoencoder is trained once per dataset and frozen in every stage
(``tools/train_autoencoder.py``), so a picture's latent never changes while the pictures do not. Emoji's
stage 2 shows the same 7,923 pictures for 20 epochs, and encoding each batch again at every step cost it 7.5%
of its speed (``assets/results/benchmarks/training_speed_emoji_latent_cache.json``). The cache encodes a set of pictures once (without gradients, in large batches) and
serves each step's rows by image index; a new set (shapes' fresh scenes, emoji's framed pictures of an
epoch) is encoded anew, which costs what encoding its batches would have.
"""

from __future__ import annotations

import torch

from ..data.images import images_to_float
from ..models.autoencoder import LatentAutoencoder


class LatentCache:
    """latents(images, index): the scaled latents (len(index), C, s, s) of ``images[index]``, where
    ``images`` is the epoch's uint8 picture set (N, 3, S, S); the whole set is encoded on first use."""

    def __init__(self, autoencoder: LatentAutoencoder, device: torch.device,
                 memory_format: torch.memory_format = torch.contiguous_format, batch: int = 256) -> None:
        self.autoencoder, self.device, self.memory_format, self.batch = autoencoder, device, memory_format, batch
        self._source: torch.Tensor | None = None
        self._latents: torch.Tensor | None = None

    @torch.no_grad()
    def fill(self, images: torch.Tensor) -> None:
        """Encode ``images`` (N, 3, S, S) uint8, unless they are the set already held."""
        if images is self._source:
            return
        was_training = self.autoencoder.training
        self.autoencoder.eval()
        parts = []
        for s in range(0, images.shape[0], self.batch):
            x = images_to_float(images[s:s + self.batch]).to(self.device, memory_format=self.memory_format)
            parts.append(self.autoencoder.encode(x).contiguous())
        self.autoencoder.train(was_training)
        self._latents, self._source = torch.cat(parts), images

    def latents(self, images: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        self.fill(images)
        return self._latents[index.to(self._latents.device)]
