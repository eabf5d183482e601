"""GXN over pretrained towers: open_clip's image and text transformers under the GXN heads.

``GXN`` builds these encoders instead of the pocket CNN and GRUs when
``ModelConfig.backbone == "open_clip"``; they return what the pocket encoders
return, so the GXN heads, the caption decoder, the GAN or diffusion branch, the
trainer, evaluation and the pipeline take them unchanged:

  image: (B, 3, S, S) in [-1, 1] → v_h from the pooled CLIP image feature (abstract),
         v_l from the mean of the patch tokens (grounded);
  text:  GXN token ids (B, T) → v_h's twin t_h from the pooled CLIP text feature, t_l from the
         masked mean of the text tokens, and the token states (B, L, text_hidden) with their mask,
         which the diffusion branch attends to.

Text reaches the CLIP text tower through a table, held in the checkpoint as the
buffer ``word_pieces``, of each GXN vocabulary word's CLIP BPE pieces (filled
by ``set_vocabulary``): the caption decoder and every caller keep the GXN
vocabulary, and inference needs no CLIP tokenizer. ``<unk>`` words are dropped
(the vocabulary keeps every training word, so only unseen words are lost).

The towers are frozen unless ``clip_unlocked_layers`` > 0, which unlocks that
many final blocks of each (open_clip's ``lock``). ``GXN(cfg)`` builds the
architecture only; ``load_pretrained_towers`` loads the ``clip_pretrained``
weights when a run starts (a checkpoint carries its own). open_clip is imported
here only, and this module only when such a model is built.

    python -m lookimagine.train --preset tiny-clip-gxn --out runs/tiny-clip   # random towers, seconds
"""

from __future__ import annotations

import open_clip
import torch
import torch.nn.functional as F
from open_clip.tokenizer import SimpleTokenizer
from torch import nn

from ..config import ModelConfig

# A tiny architecture for tests: random weights, built from this config, nothing downloaded.
TINY_CLIP = "lookimagine-tiny-clip"
LOCAL_CONFIGS = {
    TINY_CLIP: {"embed_dim": 16,
                "vision_cfg": {"image_size": 32, "layers": 2, "width": 32, "head_width": 16, "patch_size": 8},
                "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 32, "heads": 2, "layers": 2}},
}
MAX_PIECES = 8  # BPE pieces kept per word (longer words are cut)
SOT, EOT = 49406, 49407  # open_clip SimpleTokenizer's <start_of_text>, <end_of_text>
CLIP_MEAN, CLIP_STD = (0.48145466, 0.4578275, 0.40821073), (0.26862954, 0.26130258, 0.27577711)


def build_clip(name: str) -> nn.Module:
    """The open_clip architecture ``name`` with random weights (nothing is downloaded)."""
    if name in LOCAL_CONFIGS:
        return open_clip.model.CLIP(**LOCAL_CONFIGS[name])
    if open_clip.get_model_config(name) is None:
        raise ValueError(f"unknown open_clip model {name!r}; see open_clip.list_models()")
    return open_clip.create_model(name, pretrained=None)


def _masked_mean(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """tokens (B, L, C), mask (B, L) bool → (B, C)."""
    m = mask.unsqueeze(-1).to(tokens.dtype)
    return (tokens * m).sum(1) / m.sum(1).clamp(min=1)


class ClipImageEncoder(nn.Module):
    """(B, 3, S, S) in [-1, 1] → v_h, v_l (B, embed_dim), not yet normalised, like ``ImageEncoder``."""

    def __init__(self, cfg: ModelConfig, clip: nn.Module, dropout: float = 0.1) -> None:
        super().__init__()
        self.visual = clip.visual
        self.visual.output_tokens = True  # forward → (pooled (B, D), patch tokens (B, N, W))
        self.input_size = tuple(self.visual.image_size)
        mean, std = _normalisation(cfg)
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)
        self.dropout = nn.Dropout(dropout)
        self.head_h = nn.Linear(self.visual.output_dim, cfg.embed_dim)  # abstract: the pooled feature
        self.head_l = nn.Linear(self.visual.transformer.width, cfg.embed_dim)  # grounded: the patch tokens

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (images + 1) / 2  # [-1, 1] → [0, 1], then CLIP's normalisation at CLIP's input size
        if tuple(x.shape[-2:]) != self.input_size:
            x = F.interpolate(x, size=self.input_size, mode="bicubic", align_corners=False).clamp(0, 1)
        pooled, tokens = self.visual((x - self.mean) / self.std)  # (B, D), (B, N, W)
        return self.head_h(self.dropout(pooled)), self.head_l(self.dropout(tokens.mean(1)))


class ClipTextEncoder(nn.Module):
    """tokens (B, T), lengths (B,) → t_h (B, E), t_l (B, E), states (B, L, text_hidden), mask (B, L)."""

    def __init__(self, cfg: ModelConfig, clip: nn.Module, dropout: float = 0.1) -> None:
        super().__init__()
        # open_clip's CLIP keeps the text tower's parts on the model itself
        self.token_embedding, self.positional_embedding = clip.token_embedding, clip.positional_embedding
        self.transformer, self.ln_final, self.text_projection = clip.transformer, clip.ln_final, clip.text_projection
        self.register_buffer("attn_mask", clip.attn_mask, persistent=False)
        self.context_length = clip.context_length
        # GXN word id → its CLIP BPE pieces (0-padded), and how many; <pad>/<bos>/<eos>/<unk> are handled apart
        self.register_buffer("word_pieces", torch.zeros(cfg.vocab_size, MAX_PIECES, dtype=torch.long))
        self.register_buffer("word_piece_count", torch.zeros(cfg.vocab_size, dtype=torch.long))
        width = self.transformer.width
        out_dim = clip.text_projection.shape[1] if isinstance(clip.text_projection, nn.Parameter) else width
        self.dropout = nn.Dropout(dropout)
        self.head_h = nn.Linear(out_dim, cfg.embed_dim)  # abstract: the pooled (EOT) feature
        self.head_l = nn.Linear(width, cfg.embed_dim)  # grounded: the word tokens
        self.states = nn.Linear(width, cfg.text_hidden)  # token states for the text→image branch

    @torch.no_grad()
    def set_vocabulary(self, words: tuple[str, ...], tokenizer: SimpleTokenizer | None = None) -> None:
        """Fill ``word_pieces`` from the GXN vocabulary's words (ids 0–3 are <pad>, <bos>, <eos>, <unk>)."""
        if len(words) != self.word_pieces.shape[0]:
            raise ValueError(f"the vocabulary has {len(words)} words, the model {self.word_pieces.shape[0]}")
        tokenizer = tokenizer or SimpleTokenizer()
        self.word_pieces.zero_()
        self.word_piece_count.zero_()
        for i, word in enumerate(words[4:], start=4):
            pieces = tokenizer.encode(word)[:MAX_PIECES]
            self.word_pieces[i, :len(pieces)] = torch.tensor(pieces, dtype=torch.long)
            self.word_piece_count[i] = len(pieces)

    def clip_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """GXN ids (B, T) → CLIP ids (B, context_length): <sot> pieces… <eot>, 0-padded, cut to fit."""
        b, length = tokens.shape[0], self.context_length
        count = self.word_piece_count[tokens]  # (B, T); <pad>, <bos>, <eos>, <unk> have 0 pieces
        keep = torch.arange(MAX_PIECES, device=tokens.device) < count.unsqueeze(-1)  # (B, T, P)
        pos = keep.flatten(1).cumsum(1)  # slot of each kept piece (after <sot> at 0), (B, T·P)
        fits = keep.flatten(1) & (pos < length - 1)
        out = torch.zeros(b, length, dtype=torch.long, device=tokens.device)
        rows = torch.arange(b, device=tokens.device).unsqueeze(1).expand_as(pos)
        out[rows[fits], pos[fits]] = self.word_pieces[tokens].flatten(1)[fits]
        out[:, 0] = SOT
        n = fits.sum(1)  # pieces kept per row
        out[torch.arange(b, device=tokens.device), n + 1] = EOT
        return out

    def forward(self, tokens: torch.Tensor, lengths: torch.Tensor):
        text = self.clip_tokens(tokens)  # (B, L)
        x = self.token_embedding(text) + self.positional_embedding  # (B, L, W)
        x = self.ln_final(self.transformer(x, attn_mask=self.attn_mask))
        eot = text.argmax(dim=-1)  # the <eot> id is the largest: open_clip's "argmax" pooling
        pooled = x[torch.arange(x.shape[0], device=x.device), eot]
        if isinstance(self.text_projection, nn.Linear):
            pooled = self.text_projection(pooled)
        elif self.text_projection is not None:
            pooled = pooled @ self.text_projection
        mask = torch.arange(text.shape[1], device=text.device)[None, :] <= eot[:, None]  # <sot> … <eot>
        t_h = self.head_h(self.dropout(pooled))
        t_l = self.head_l(self.dropout(_masked_mean(x, mask)))
        return t_h, t_l, self.states(x), mask


def build_encoders(cfg: ModelConfig) -> tuple[ClipImageEncoder, ClipTextEncoder]:
    """The two towers of one open_clip model under GXN heads, locked but for the last unlocked blocks."""
    clip = build_clip(cfg.clip_model)
    if not isinstance(getattr(clip, "transformer", None), nn.Module) or not hasattr(clip, "token_embedding"):
        raise ValueError(f"{cfg.clip_model}: only open_clip models with the CLIP text transformer are supported "
                         "(not CustomTextCLIP / Hugging Face text towers)")
    # open_clip's last lock group is the projection, so N blocks are N + 1 groups
    unlocked = cfg.clip_unlocked_layers + 1 if cfg.clip_unlocked_layers else 0
    clip.lock_image_tower(unlocked_groups=unlocked)
    clip.lock_text_tower(unlocked_layers=unlocked)
    return ClipImageEncoder(cfg, clip), ClipTextEncoder(cfg, clip)


def _normalisation(cfg: ModelConfig) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The image mean/std the pretrained weights expect: the tag's, or the ``open_clip_config.json`` of a
    weights folder (or beside a weights file); OpenAI's otherwise."""
    from ..hub import is_local, open_clip_preprocess

    tag = cfg.clip_pretrained
    if tag and is_local(tag):
        info = open_clip_preprocess(tag)
    else:
        info = open_clip.get_pretrained_cfg(cfg.clip_model, tag) if tag else {}
    return tuple(info.get("mean") or CLIP_MEAN), tuple(info.get("std") or CLIP_STD)


def _warn_on_activation_mismatch(cfg: ModelConfig) -> None:
    """Warn, as open_clip does for a tag, when a weights folder's own config asks for QuickGELU and the
    architecture does not (or the reverse): OpenAI's weights need ``ViT-B-32-quickgelu``."""
    import json
    import logging
    from pathlib import Path

    path = Path(cfg.clip_pretrained).expanduser()
    config = (path if path.is_dir() else path.parent) / "open_clip_config.json"
    try:
        wanted = bool(json.loads(config.read_text())["model_cfg"].get("quick_gelu", False))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return
    built = bool((LOCAL_CONFIGS.get(cfg.clip_model) or open_clip.get_model_config(cfg.clip_model) or {})
                 .get("quick_gelu", False))
    if wanted != built:
        logging.getLogger(__name__).warning(
            "%s: its open_clip_config.json has quick_gelu=%s but %s has quick_gelu=%s; the towers compute "
            "other features than the weights were trained with", cfg.clip_pretrained, wanted, cfg.clip_model, built)


def load_pretrained_towers(model: nn.Module) -> None:
    """Load ``clip_pretrained`` (an open_clip tag, a weights file or a folder) into a fresh GXN's towers.

    Raises ``ModelUnavailable`` (a ``CheckpointError``) with one sentence on how to supply the weights locally.
    """
    from ..errors import ModelUnavailable
    from ..hub import is_local, offline, open_clip_weights

    cfg = model.cfg
    if not cfg.clip_pretrained:
        return
    # a folder or a weights file (open_clip's tags never hold a "/"): no Hub, so nothing to blame on being offline
    if is_local(cfg.clip_pretrained) or "/" in cfg.clip_pretrained:
        try:
            reference = build_clip(cfg.clip_model)
            open_clip.load_checkpoint(reference, open_clip_weights(cfg.clip_pretrained))
            _warn_on_activation_mismatch(cfg)
        except Exception as e:  # a folder without open_clip weights, a corrupt file, weights of another model
            raise ModelUnavailable(
                f"Cannot load the open_clip weights for {cfg.clip_model} from {cfg.clip_pretrained!r} "
                f"({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}). Pass "
                "--set clip_pretrained=DIR, a folder from `hf download … --local-dir DIR` holding "
                "open_clip_model.safetensors, or the weights file itself.") from e
    else:
        try:
            reference = open_clip.create_model(cfg.clip_model, pretrained=cfg.clip_pretrained)
        except Exception as e:  # open_clip raises RuntimeError, OSError or Hub errors depending on the source
            hub = (open_clip.get_pretrained_cfg(cfg.clip_model, cfg.clip_pretrained).get("hf_hub") or "").strip("/")
            why = "HF_HUB_OFFLINE is set" if offline() else f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
            fetch = f"`hf download {hub} --local-dir DIR`" if hub else "open_clip's download once while online"
            raise ModelUnavailable(
                f"Cannot load the open_clip weights {cfg.clip_model} / {cfg.clip_pretrained!r} ({why}). "
                f"Get them with {fetch} and pass --set clip_pretrained=DIR (a folder or a weights file).") from e
    state = reference.state_dict()
    img, txt = model.image_encoder, model.text_encoder
    img.visual.load_state_dict({k[len("visual."):]: v for k, v in state.items() if k.startswith("visual.")})
    text_parts = ("token_embedding.", "positional_embedding", "transformer.", "ln_final.", "text_projection")
    own = {k: v for k, v in state.items() if k.startswith(text_parts)}
    missing, unexpected = txt.load_state_dict(own, strict=False)
    wrong = [k for k in missing if k.startswith(text_parts)]
    if wrong or unexpected:
        raise ModelUnavailable(f"{cfg.clip_model} / {cfg.clip_pretrained}: text tower weights do not fit "
                               f"(missing {wrong[:3]}, unexpected {unexpected[:3]})")


__all__ = ["TINY_CLIP", "ClipImageEncoder", "ClipTextEncoder", "build_clip", "build_encoders", "load_pretrained_towers"]
