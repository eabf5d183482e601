"""The full tier's three models at their real architectures, with random weights, saved as the Hub lays them out.

    folders = save_models(Path("/tmp/full"), tiny=False, device="cuda")
    ClipTowers.load(folders.clip_arch, str(folders.clip))      # open_clip ViT-B-32 (the config open_clip ships)
    Captioner.load(str(folders.captioner))                     # BLIP base (blip-image-captioning-base's shape)
    Painter.load(str(folders.painter))                         # Stable Diffusion 2 sized, as sd-turbo is

Nothing is downloaded: every model is built from a config and written with
``save_pretrained`` (transformers, diffusers) or as open_clip's Hub
repositories hold it (``open_clip_model.safetensors`` + ``open_clip_config.json``),
so loading goes through the same code as real weights would, fp16 on CUDA
included (the painter is saved as the ``fp16`` variant there, as sd-turbo's
repository has one). The tokenizers are real where the library ships the
vocabulary (open_clip's BPE for CLIP and the painter's text encoder); BLIP's
word pieces are placeholders with BERT's special-token ids. ``tiny=True``
builds the same kinds of model a few layers wide, for ``--quick``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image, ImageDraw

TINY_CLIP_ARCH = "lookimagine-gpu-check-tiny-clip"
TINY_CLIP = {"embed_dim": 32,
             "vision_cfg": {"image_size": 32, "layers": 1, "width": 32, "patch_size": 16, "head_width": 16},
             "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 1}}
CLIP_STATS = {"mean": [0.48145466, 0.4578275, 0.40821073], "std": [0.26862954, 0.26130258, 0.27577711]}

# Salesforce/blip-image-captioning-base: ViT-B/16 at 384 px, a 12-layer BERT-base decoder
BLIP_REAL = {"text": {"vocab_size": 30524, "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                      "num_attention_heads": 12, "bos_token_id": 30522, "pad_token_id": 0, "sep_token_id": 102,
                      "eos_token_id": 2},
             "vision": {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
                        "num_attention_heads": 12, "image_size": 384, "patch_size": 16}}
BLIP_TINY = {"text": {"vocab_size": 64, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
                      "num_attention_heads": 2, "max_position_embeddings": 64, "bos_token_id": 5, "pad_token_id": 0,
                      "sep_token_id": 3, "eos_token_id": 3},
             "vision": {"hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                        "image_size": 32, "patch_size": 16}}
# BERT's special tokens at their bert-base-uncased ids; BLIP adds [DEC] (bos) at 30522
BLIP_SPECIALS_REAL = {"[PAD]": 0, "[UNK]": 100, "[CLS]": 101, "[SEP]": 102, "[MASK]": 103, "[DEC]": 30522}
BLIP_SPECIALS_TINY = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4, "[DEC]": 5}

# stabilityai/sd-turbo: the Stable Diffusion 2.1 UNet (512 px, 64×64 latents), its VAE, OpenCLIP ViT-H/14's text tower
UNET_REAL = {"sample_size": 64, "in_channels": 4, "out_channels": 4, "layers_per_block": 2,
             "block_out_channels": (320, 640, 1280, 1280), "attention_head_dim": (5, 10, 20, 20),
             "cross_attention_dim": 1024, "use_linear_projection": True,
             "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                  "DownBlock2D"),
             "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D")}
UNET_TINY = {"sample_size": 8, "in_channels": 4, "out_channels": 4, "layers_per_block": 1,
             "block_out_channels": (8, 16), "attention_head_dim": 2, "cross_attention_dim": 16,
             "norm_num_groups": 4, "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
             "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D")}
VAE_REAL = {"block_out_channels": (128, 256, 512, 512), "layers_per_block": 2, "latent_channels": 4,
            "sample_size": 512, "down_block_types": ("DownEncoderBlock2D",) * 4,
            "up_block_types": ("UpDecoderBlock2D",) * 4}
VAE_TINY = {"block_out_channels": (8, 16), "layers_per_block": 1, "latent_channels": 4, "norm_num_groups": 4,
            "sample_size": 16, "down_block_types": ("DownEncoderBlock2D",) * 2,
            "up_block_types": ("UpDecoderBlock2D",) * 2}
TEXT_REAL = {"vocab_size": 49408, "hidden_size": 1024, "intermediate_size": 4096, "num_hidden_layers": 23,
             "num_attention_heads": 16, "max_position_embeddings": 77, "hidden_act": "gelu", "projection_dim": 512}
TEXT_TINY = {"vocab_size": 49408, "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 1,
             "num_attention_heads": 2, "max_position_embeddings": 77, "hidden_act": "gelu", "projection_dim": 16}

COLOURS = {"red": (220, 30, 30), "blue": (30, 30, 220), "green": (30, 170, 30), "yellow": (230, 210, 30)}
SHAPES = ("square", "circle")


@dataclass(frozen=True)
class ModelFolders:
    """Where the three models were saved; ``clip_arch`` is the open_clip architecture name of ``clip``."""

    clip_arch: str
    clip: Path
    captioner: Path
    painter: Path


def save_models(root: Path, tiny: bool, device: str | torch.device = "cpu") -> ModelFolders:
    """Build the three models on ``device`` (fp16 on CUDA, as the loaders will hold them) and save them under ``root``."""
    dev = torch.device(device)
    dtype = torch.float16 if dev.type == "cuda" else torch.float32
    clip_arch, clip = save_clip(root / "clip", tiny, dev, dtype)
    return ModelFolders(clip_arch, clip, save_blip(root / "blip", tiny, dev, dtype),
                        save_painter(root / "painter", tiny, dev, dtype))


def save_clip(folder: Path, tiny: bool, device: torch.device, dtype: torch.dtype) -> tuple[str, Path]:
    """open_clip ViT-B-32 (or the tiny CLIP, registered with open_clip under ``TINY_CLIP_ARCH``) as a Hub folder."""
    import open_clip
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    if tiny:
        configs = folder.parent / "open_clip_configs"
        configs.mkdir(exist_ok=True)
        (configs / f"{TINY_CLIP_ARCH}.json").write_text(json.dumps(TINY_CLIP))
        open_clip.add_model_config(configs)  # the architecture is then known by name, as ViT-B-32 is
    arch = TINY_CLIP_ARCH if tiny else "ViT-B-32"
    torch.manual_seed(0)
    model = open_clip.create_model(arch, pretrained=None, device=device)
    save_file({k: v.to(dtype).contiguous() for k, v in model.state_dict().items()},
              str(folder / "open_clip_model.safetensors"))
    (folder / "open_clip_config.json").write_text(json.dumps(
        {"model_cfg": open_clip.get_model_config(arch), "preprocess_cfg": CLIP_STATS}))
    return arch, folder


def save_blip(folder: Path, tiny: bool, device: torch.device, dtype: torch.dtype) -> Path:
    """A BLIP captioner (``BlipForConditionalGeneration``) and its processor, with ``save_pretrained``."""
    from transformers import (BertTokenizer, BlipConfig, BlipForConditionalGeneration, BlipImageProcessor,
                              BlipProcessor)

    cfg, specials = (BLIP_TINY, BLIP_SPECIALS_TINY) if tiny else (BLIP_REAL, BLIP_SPECIALS_REAL)
    folder.mkdir(parents=True, exist_ok=True)
    words = [f"w{i}" for i in range(cfg["text"]["vocab_size"])]
    for token, index in specials.items():
        words[index] = token
    (folder / "vocab.txt").write_text("\n".join(words) + "\n")
    tokenizer = BertTokenizer(str(folder / "vocab.txt"), bos_token="[DEC]")
    config = BlipConfig(text_config=cfg["text"], vision_config=cfg["vision"],
                        projection_dim=16 if tiny else 512)
    torch.manual_seed(0)
    with torch.device(device):
        model = BlipForConditionalGeneration(config)
    model.to(dtype).save_pretrained(folder)
    size = cfg["vision"]["image_size"]
    BlipProcessor(image_processor=BlipImageProcessor(size={"height": size, "width": size}),
                  tokenizer=tokenizer).save_pretrained(folder)
    return folder


def clip_tokenizer_files(folder: Path) -> tuple[Path, Path]:
    """CLIP's real BPE vocabulary (the one open_clip ships) as a transformers ``vocab.json`` + ``merges.txt``."""
    from open_clip.tokenizer import SimpleTokenizer

    simple = SimpleTokenizer()
    folder.mkdir(parents=True, exist_ok=True)
    # open_clip names the two special tokens <start_of_text>/<end_of_text>; transformers' CLIP <|startoftext|>/...
    renamed = {"<start_of_text>": "<|startoftext|>", "<end_of_text>": "<|endoftext|>"}
    (folder / "vocab.json").write_text(json.dumps({renamed.get(k, k): v for k, v in simple.encoder.items()}))
    merges = sorted(simple.bpe_ranks, key=simple.bpe_ranks.get)
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(" ".join(m) for m in merges) + "\n")
    return folder / "vocab.json", folder / "merges.txt"


def save_painter(folder: Path, tiny: bool, device: torch.device, dtype: torch.dtype) -> Path:
    """A Stable Diffusion pipeline (UNet, VAE, CLIP text encoder, tokenizer, sd-turbo's Euler scheduler).

    Saved as the ``fp16`` variant on CUDA (``Painter.load`` asks for it there) and plain fp32 elsewhere.
    """
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    vocab, merges = clip_tokenizer_files(folder.parent / "clip_bpe")
    tokenizer = CLIPTokenizer(str(vocab), str(merges), model_max_length=77, pad_token="!")
    unet_cfg, vae_cfg, text_cfg = (UNET_TINY, VAE_TINY, TEXT_TINY) if tiny else (UNET_REAL, VAE_REAL, TEXT_REAL)
    torch.manual_seed(0)
    with torch.device(device):
        unet = UNet2DConditionModel(**unet_cfg)
        vae = AutoencoderKL(**vae_cfg)
        text = CLIPTextModel(CLIPTextConfig(**text_cfg, bos_token_id=49406, eos_token_id=49407, pad_token_id=0))
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       timestep_spacing="trailing", steps_offset=1)
    pipe = StableDiffusionPipeline(vae=vae, text_encoder=text, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
                                   safety_checker=None, feature_extractor=None, requires_safety_checker=False)
    pipe.to(dtype=dtype)
    pipe.save_pretrained(folder, variant="fp16" if dtype == torch.float16 else None)
    return folder


def save_gallery(folder: Path, n_images: int, size: int = 224) -> Path:
    """A ``folder`` gallery of ``n_images`` drawn shapes (colour × shape × position), two captions each."""
    folder.mkdir(parents=True, exist_ok=True)
    rows, positions = [], ("left", "right", "top", "bottom")
    combos = [(c, s, p) for p in positions for c in COLOURS for s in SHAPES]
    for i in range(n_images):
        colour, shape, where = combos[i % len(combos)]
        image = Image.new("RGB", (size, size), "white")
        half, q = size // 2, size // 4
        box = {"left": (q // 2, q, half, 3 * q), "right": (half, q, size - q // 2, 3 * q),
               "top": (q, q // 2, 3 * q, half), "bottom": (q, half, 3 * q, size - q // 2)}[where]
        draw = ImageDraw.Draw(image)
        (draw.rectangle if shape == "square" else draw.ellipse)(box, fill=COLOURS[colour])
        name = f"{i:03d}-{colour}-{shape}-{where}.png"
        image.save(folder / name)
        rows.append({"image": name, "captions": [f"a {colour} {shape} on the {where}", f"{colour} {shape}, {where}"]})
    (folder / "captions.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return folder
