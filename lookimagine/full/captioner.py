"""Imagine, image → text: a pretrained captioner through transformers (BLIP by default).

    captioner = Captioner.load("Salesforce/blip-image-captioning-base", device="cuda")
    captioner.caption([image])      # ["a dog sitting on a couch"]

Any model that ``AutoModelForImageTextToText`` and ``AutoProcessor`` load and
that captions from pixels alone (BLIP, BLIP-2, GIT, ...) fits. Beam search
(3 beams, up to 30 new tokens) by default: deterministic, so the same image
always gets the same caption. open_clip's CoCa ``generate`` is not used (it
breaks with current transformers).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from PIL import Image

from ..models.checkpoint import pick_device
from ..hub import display_name, load_or_explain
from .options import DEFAULT_CAPTIONER


class Captioner:
    """A transformers image-to-text model and its processor, in eval mode; ``name`` is what the page shows."""

    def __init__(self, model, processor, device: torch.device, name: str, max_new_tokens: int = 30,
                 num_beams: int = 3):
        self.model, self.processor, self.device, self.name = model.eval(), processor, device, name
        self.dtype = next(model.parameters()).dtype
        self.max_new_tokens, self.num_beams = max_new_tokens, num_beams

    @classmethod
    def load(cls, source: str = DEFAULT_CAPTIONER, device: str | torch.device | None = None) -> Captioner:
        """A Hub id or a folder saved with ``save_pretrained``; fp16 on CUDA; ``ModelUnavailable`` if it fails."""
        dev = pick_device(device)

        def create():
            from transformers import AutoModelForImageTextToText, AutoProcessor

            dtype = torch.float16 if dev.type == "cuda" else torch.float32
            processor = AutoProcessor.from_pretrained(source)
            model = AutoModelForImageTextToText.from_pretrained(source, dtype=dtype).to(dev)
            return model, processor

        model, processor = load_or_explain("captioner", source, "--captioner", create)
        return cls(model, processor, dev, display_name(source))

    @torch.no_grad()
    def caption(self, images: Sequence[Image.Image]) -> list[str]:
        """One caption per image, special tokens removed and spaces tidied."""
        if not images:
            return []
        inputs = self.processor(images=[im.convert("RGB") for im in images], return_tensors="pt")
        inputs = {k: v.to(self.device, self.dtype) if v.is_floating_point() else v.to(self.device)
                  for k, v in inputs.items()}
        tokens = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, num_beams=self.num_beams)
        texts = self.processor.batch_decode(tokens, skip_special_tokens=True)
        return [" ".join(t.split()) for t in texts]
