"""The zero-shot mode's settings: one frozen dataclass, and the command-line options that build it.

Light on purpose (argparse and dataclasses only): ``app.py`` and
``python -m lookimagine.evaluate zero-shot`` add these options to their own
parsers without importing torch, open_clip, transformers or diffusers.

Every model is a Hugging Face Hub id or a local folder; offline (or with
``HF_HUB_OFFLINE=1``) only folders and models already in the Hub cache load
(``errors``).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

#: the selector entry in the app, and what it says while its models load
NAME = "zero-shot (CLIP + captioner + diffusion)"
LOADING = ("Loading the zero-shot models (CLIP, captioner, painter) and embedding the gallery; the first time "
           "takes minutes (several GB are downloaded when the Hub can be reached).")
DEFAULT_CLIP, DEFAULT_CLIP_PRETRAINED = "ViT-B-32", "laion2b_s34b_b79k"
DEFAULT_CAPTIONER = "Salesforce/blip-image-captioning-base"
DEFAULT_PAINTER = "stabilityai/sd-turbo"
#: s = (1 − w)·look + w·imagined (``fusion``). Not tuned: intra-modal cosines (caption–caption,
#: image–image) spread about twice as wide as CLIP's image–text ones, so a small w already moves the
#: ranking. Measure it on your data with the sweep (``python -m lookimagine.evaluate zero-shot``).
DEFAULT_WEIGHT = 0.2
MAX_STEPS = 4
#: the pictures' side on a CPU when none is asked for. On a 2-core CPU (sd-turbo's architecture, random weights)
#: its own 512 px cost 20–30 s per text query (one UNet step 5.8 s, the VAE decode 13.2 s); 256 px about 4 s
#: (1.5 s + 2.3 s, plus the text encoder's 0.7 s), or 7 s on one thread of a busy machine. On CUDA (and MPS)
#: the painter draws at its own size (512 px for sd-turbo).
CPU_PICTURE_SIZE = 256


@dataclass(frozen=True)
class ZeroShotConfig:
    """Which models Look, Imagine and Match, and how the match is fused.

    clip_model:      an open_clip architecture ("ViT-B-32"), "local-dir:DIR" or a folder holding
                     open_clip_config.json and weights (as the Hub's open_clip repositories do).
    clip_pretrained: the open_clip pretrained tag, a weights file, or a downloaded folder holding
                     open_clip_model.safetensors (ignored when clip_model is a folder).
    captioner:       a transformers image-to-text model id or folder (BLIP by default).
    painter:         a diffusers text-to-image pipeline id or folder (sd-turbo by default).
    steps:           denoising steps, 1..``MAX_STEPS`` (turbo models are distilled for 1–4).
    guidance:        classifier-free guidance scale; 0 for turbo models (they were distilled without it).
    weight:          the fusion weight w in [0, 1] (``fusion.fuse``); 0 = CLIP alone.
    size:            the side of the drawn pictures in pixels, a multiple of 8; None: the painter's own
                     on a GPU, ``CPU_PICTURE_SIZE`` on a CPU (``picture_size``).
    """

    clip_model: str = DEFAULT_CLIP
    clip_pretrained: str = DEFAULT_CLIP_PRETRAINED
    captioner: str = DEFAULT_CAPTIONER
    painter: str = DEFAULT_PAINTER
    steps: int = 1
    guidance: float = 0.0
    weight: float = DEFAULT_WEIGHT
    size: int | None = None

    def __post_init__(self):
        if not 1 <= self.steps <= MAX_STEPS:
            raise ValueError(f"steps must be 1..{MAX_STEPS}, got {self.steps}")
        if self.size is not None and not (8 <= self.size <= 2048 and self.size % 8 == 0):
            raise ValueError(f"the picture size must be a multiple of 8 in 8..2048, got {self.size}")
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"the fusion weight must be in [0, 1], got {self.weight}")
        if self.guidance < 0:
            raise ValueError(f"guidance must be >= 0, got {self.guidance}")


def add_model_arguments(parser: argparse.ArgumentParser, weight: bool = True) -> None:
    """The options that choose the zero-shot models (and, when ``weight``, the fusion weight)."""
    group = parser.add_argument_group("zero-shot models (Hub ids or local folders)")
    group.add_argument("--clip-model", default=DEFAULT_CLIP, metavar="NAME|DIR",
                       help=f"open_clip architecture, or a folder with open_clip_config.json (default {DEFAULT_CLIP})")
    group.add_argument("--clip-pretrained", default=DEFAULT_CLIP_PRETRAINED, metavar="TAG|FILE|DIR",
                       help=f"open_clip pretrained tag, weights file or a folder holding one (default "
                            f"{DEFAULT_CLIP_PRETRAINED})")
    group.add_argument("--captioner", default=DEFAULT_CAPTIONER, metavar="ID|DIR",
                       help=f"image captioner, transformers (default {DEFAULT_CAPTIONER})")
    group.add_argument("--painter", default=DEFAULT_PAINTER, metavar="ID|DIR",
                       help=f"text-to-image pipeline, diffusers (default {DEFAULT_PAINTER})")
    group.add_argument("--steps", type=int, default=1, choices=range(1, MAX_STEPS + 1),
                       help="denoising steps of the painter (default 1)")
    group.add_argument("--guidance", type=float, default=0.0, help="guidance scale (default 0, right for turbo)")
    group.add_argument("--picture-size", type=int, metavar="PX",
                       help=f"side of the drawn pictures (default: the painter's own on a GPU, {CPU_PICTURE_SIZE} "
                            "on a CPU)")
    if weight:
        group.add_argument("--fusion-weight", type=float, default=DEFAULT_WEIGHT, metavar="W",
                           help=f"s = (1-W)·look + W·imagined (default {DEFAULT_WEIGHT})")


def config_from_args(args: argparse.Namespace) -> ZeroShotConfig:
    """The ``ZeroShotConfig`` of parsed ``add_model_arguments`` options."""
    return ZeroShotConfig(args.clip_model, args.clip_pretrained, args.captioner, args.painter, args.steps,
                          args.guidance, getattr(args, "fusion_weight", DEFAULT_WEIGHT), args.picture_size)


def picture_size(size: int | None, device_type: str) -> int | None:
    """The side to draw at: ``size`` when set; else None (the painter's own) on a GPU, ``CPU_PICTURE_SIZE`` on a CPU."""
    if size is not None:
        return size
    return CPU_PICTURE_SIZE if device_type == "cpu" else None
