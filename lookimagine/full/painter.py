"""Imagine, text → image: a pretrained diffusers text-to-image pipeline (sd-turbo by default).

    painter = Painter.load("stabilityai/sd-turbo", device="cuda", steps=1)
    painter.draw(["a red bus on a street"], n_images=2, seed=0)   # [[PIL, PIL]]

``AutoPipelineForText2Image`` picks the pipeline class from the folder's
``model_index.json``, so SD-Turbo, SDXL-Turbo and other Stable Diffusion
pipelines fit. Turbo models are distilled for 1–4 steps without
classifier-free guidance, hence ``guidance_scale=0`` by default (diffusers
then skips the unconditional pass). The caller's seed drives one
``torch.Generator`` per call, so a query always draws the same pictures.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image

from ..models.checkpoint import pick_device
from ..hub import display_name, load_or_explain
from .options import DEFAULT_PAINTER, MAX_STEPS


class Painter:
    """A diffusers text-to-image pipeline with fixed steps, guidance and size; ``name`` is what the page shows."""

    def __init__(self, pipe, name: str, steps: int = 1, guidance_scale: float = 0.0, size: int | None = None):
        if not 1 <= steps <= MAX_STEPS:
            raise ValueError(f"steps must be 1..{MAX_STEPS}, got {steps}")
        self.pipe, self.name, self.steps, self.guidance_scale, self.size = pipe, name, steps, guidance_scale, size
        pipe.set_progress_bar_config(disable=True)

    @classmethod
    def load(cls, source: str = DEFAULT_PAINTER, device: str | torch.device | None = None, steps: int = 1,
             guidance_scale: float = 0.0, size: int | None = None) -> Painter:
        """A Hub id or a folder saved with ``save_pretrained``; fp16 on CUDA; ``ModelUnavailable`` if it fails.

        ``size``: the side of the square pictures in pixels (None: the model's own, 512 for sd-turbo).
        """
        dev = pick_device(device)

        def create():
            from diffusers import AutoPipelineForText2Image

            kwargs = {"torch_dtype": torch.float16, "variant": "fp16"} if dev.type == "cuda" else {}
            try:
                pipe = AutoPipelineForText2Image.from_pretrained(source, **kwargs)
            except (OSError, ValueError):
                if "variant" not in kwargs:
                    raise
                kwargs.pop("variant")  # no fp16 files in this repository: load fp32 weights, cast to fp16
                pipe = AutoPipelineForText2Image.from_pretrained(source, **kwargs)
            return pipe.to(dev)

        return cls(load_or_explain("text-to-image pipeline", source, "--painter", create), display_name(source),
                   steps, guidance_scale, size)

    @property
    def device(self) -> torch.device:
        return self.pipe.device

    @property
    def picture_size(self) -> int:
        """The side the pictures are drawn at: ``size``, or the model's own (UNet sample size × VAE scale)."""
        if self.size:
            return self.size
        return int(self.pipe.unet.config.sample_size) * int(getattr(self.pipe, "vae_scale_factor", 8))

    @torch.no_grad()
    def draw(self, prompts: Sequence[str], n_images: int = 1, seed: int = 0) -> list[list[Image.Image]]:
        """``n_images`` pictures per prompt, as ``[[PIL] * n_images] * len(prompts)``."""
        if not prompts:
            return []
        device = "cpu" if self.device.type == "mps" else self.device  # MPS has no generators of its own
        generator = torch.Generator(device=device).manual_seed(seed)
        size = {"height": self.size, "width": self.size} if self.size else {}
        images = self.pipe(list(prompts), num_inference_steps=self.steps, guidance_scale=self.guidance_scale,
                           num_images_per_prompt=n_images, generator=generator, output_type="pil", **size).images
        return [images[i * n_images:(i + 1) * n_images] for i in range(len(prompts))]
