"""Look: an open_clip model's image and text towers, encoding in batches into its joint space.

    towers = ClipTowers.load("ViT-B-32", "laion2b_s34b_b79k", device="cuda")
    v = towers.encode_images(images)        # (N, D) float32, unit rows, on the CPU
    t = towers.encode_texts(["a dog"])      # (1, D)
    v @ t.T                                 # cosine similarities, CLIP's look score

``model`` may also be a folder (or "local-dir:DIR") holding
``open_clip_config.json`` and weights, as open_clip's Hub repositories do;
open_clip then ignores ``pretrained``. ``pretrained`` may be a tag, a weights
file, or a downloaded folder holding ``open_clip_model.safetensors``. On CUDA
the towers run in fp16; the embeddings come back as float32 on the CPU either
way, so the gallery and the fusion arithmetic are plain numpy.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from ..errors import ModelUnavailable
from ..hub import display_name, is_local, load_or_explain, open_clip_preprocess, open_clip_weights
from ..models.checkpoint import pick_device


def _open_clip_name(model: str) -> str:
    """A folder becomes open_clip's "local-dir:" schema; names and schemas pass through."""
    if ":" not in model and Path(model).expanduser().is_dir():
        return "local-dir:" + str(Path(model).expanduser())
    return model


def _hub_repo(model: str, pretrained: str) -> str | None:
    """The Hub repository behind an open_clip (architecture, tag), for the download hint."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(model, pretrained) or {}
    return cfg.get("hf_hub", "").rstrip("/") or None


def _check_tag(model: str, pretrained: str | None) -> None:
    """``ModelUnavailable`` naming the choices when open_clip knows no such architecture or tag."""
    import open_clip

    model = model.replace("/", "-")  # open_clip's own cleaning: "ViT-B/32" is "ViT-B-32"
    if model not in open_clip.list_models():
        raise ModelUnavailable(f"open_clip has no model {model!r} (`open_clip.list_models()` lists them); pass "
                               "--clip-model NAME, or --clip-model DIR for a downloaded open_clip folder.")
    tags = open_clip.list_pretrained_tags_by_model(model)
    if not open_clip.get_pretrained_cfg(model, pretrained or ""):
        raise ModelUnavailable(f"open_clip has no pretrained weights {pretrained!r} for {model}; its tags are "
                               f"{', '.join(tags) or 'none'}. Pass --clip-pretrained TAG or a weights file.")


def _batches(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


class ClipTowers:
    """An open_clip model in eval mode with its image preprocessing and tokenizer.

    name:       what the page shows ("ViT-B-32/laion2b_s34b_b79k", or a folder's own name).
    model_name: the architecture or folder it was built from; pretrained: the tag or weights file it
                loaded (None when a model folder held its weights).
    """

    def __init__(self, model, preprocess, tokenizer, device: torch.device, name: str,
                 model_name: str | None = None, pretrained: str | None = None):
        self.model, self.preprocess, self.tokenizer = model.eval(), preprocess, tokenizer
        self.device, self.name = device, name
        self.model_name, self.pretrained = model_name or name, pretrained
        self.dtype = next(model.parameters()).dtype

    @classmethod
    def load(cls, model: str = "ViT-B-32", pretrained: str | None = "laion2b_s34b_b79k",
             device: str | torch.device | None = None) -> ClipTowers:
        """open_clip ``model`` with ``pretrained`` weights; ``ModelUnavailable`` when they cannot be had.

        ``pretrained``: a tag, a weights file, or a folder holding one (``hf download … --local-dir DIR``).
        """
        dev = pick_device(device)
        name = _open_clip_name(model)
        precision = "fp16" if dev.type == "cuda" else "fp32"
        preprocess_cfg: dict = {}

        schema = name.partition(":")[0] if name.startswith(("local-dir:", "hf-hub:")) else None
        if schema is None and not is_local(pretrained or ""):
            _check_tag(model, pretrained)
        if schema is not None:  # the folder or repository holds its weights; open_clip ignores ``pretrained``
            source, hub, pretrained = name, name.removeprefix("hf-hub:") if schema == "hf-hub" else None, None
        elif is_local(pretrained or ""):
            source, hub = pretrained, None
            try:
                pretrained = open_clip_weights(pretrained)  # a folder → the open_clip weights file in it
            except FileNotFoundError as e:
                raise ModelUnavailable(f"Cannot load the open_clip model from {source!r}: {e}. Pass "
                                       "--clip-pretrained FILE, or --clip-model DIR for a folder with "
                                       "open_clip_config.json.") from None
            preprocess_cfg = open_clip_preprocess(pretrained)
        else:
            source, hub = f"{model} ({pretrained})", _hub_repo(model, pretrained)

        def create():
            import open_clip

            stats = {f"image_{k}": preprocess_cfg[k] for k in ("mean", "std") if preprocess_cfg.get(k)}
            clip, _, preprocess = open_clip.create_model_and_transforms(name, pretrained=pretrained, device=dev,
                                                                       precision=precision, **stats)
            return clip, preprocess, open_clip.get_tokenizer(name)

        clip, preprocess, tokenizer = load_or_explain("open_clip model", source, "--clip-model", create, hub_id=hub)
        if schema == "local-dir":
            shown = display_name(name)
        elif schema:
            shown = name
        else:  # a weights file is shown by its folder (a Hub download's name), not its generic file name
            shown = f"{model}/{display_name(source) if is_local(source) else pretrained}"
        return cls(clip, preprocess, tokenizer, dev, shown, model, pretrained)

    @torch.no_grad()
    def encode_images(self, images: Iterable[Image.Image], batch: int = 64, progress: bool = False,
                      total: int | None = None, desc: str = "images") -> np.ndarray:
        """(N, D) unit float32 rows for ``images`` (any iterable: a gallery streams them from disk)."""
        out = []
        for chunk in tqdm(_batches(images, batch), desc=desc, total=None if total is None else -(-total // batch),
                          disable=not progress, file=sys.stderr, leave=False):
            x = torch.stack([self.preprocess(im.convert("RGB")) for im in chunk]).to(self.device, self.dtype)
            out.append(self.model.encode_image(x, normalize=True).float().cpu())
        return _stack(out)

    @torch.no_grad()
    def encode_texts(self, texts: Iterable[str], batch: int = 256, progress: bool = False,
                     desc: str = "captions") -> np.ndarray:
        """(M, D) unit float32 rows for ``texts`` (the tokenizer truncates to the model's context)."""
        out = []
        for chunk in tqdm(_batches(texts, batch), desc=desc, disable=not progress, file=sys.stderr, leave=False):
            tokens = self.tokenizer(chunk).to(self.device)
            out.append(self.model.encode_text(tokens, normalize=True).float().cpu())
        return _stack(out)


def _stack(parts: list[torch.Tensor]) -> np.ndarray:
    if not parts:
        return np.zeros((0, 0), dtype=np.float32)
    # re-normalise in float32: fp16 rows are unit only to about 1e-3
    x = torch.cat(parts)
    return torch.nn.functional.normalize(x, dim=-1).numpy()
