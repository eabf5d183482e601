"""Checkpoint I/O: a directory with config.json, model.safetensors and vocab.json.

Loading never unpickles: weights are safetensors, configs and vocabularies JSON.
A missing, corrupt or mismatched file raises ``CheckpointError`` naming the file
and what is wrong.

``load_model`` is the one place that pairs a checkpoint with its inputs (as
open_clip's ``create_model_and_transforms`` + ``get_tokenizer`` do): the
returned ``LoadedModel`` tokenises captions with the checkpoint's vocabulary
and ``max_len`` and preprocesses images to the model's size and dtype.

    loaded = load_model("assets/checkpoints/emoji/gxn")
    txt = loaded.model.encode_text(*loaded.tokenize(["a red circle"]))
    img = loaded.model.encode_image(loaded.preprocess([picture]))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..config import ModelConfig, TrainConfig, from_dict, to_dict
from ..data.images import to_tensor
from ..data.vocab import PAD_ID, Vocabulary
from ..errors import CheckpointError
from .gxn import GXN

CONFIG, WEIGHTS, VOCAB = "config.json", "model.safetensors", "vocab.json"
FORMAT = "lookimagine-checkpoint-v1"


# Weight-only int8 storage (``save_checkpoint(quantize=...)``): a weight matrix or conv kernel under one of the
# given prefixes is stored as int8 ``<key>.q8`` with one fp16 scale per output channel, ``<key>.q8scale``
# (symmetric: w ≈ q · scale, |q| ≤ 127), and turned back into floats on load; compute stays in float.
Q8, Q8_SCALE = ".q8", ".q8scale"
Q8_MIN_NUMEL = 1024  # smaller tensors (biases, norms, tiny kernels) stay fp16: int8 saves nothing worth the error


def quantize_int8(w: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(int8 values, fp16 scales of shape [out, 1, …]) of a float tensor [out, …], per output channel."""
    w = w.float()
    peak = w.abs().amax(dim=tuple(range(1, w.ndim)), keepdim=True)
    scale = (peak / 127.0).clamp_min(1e-12).half()  # rounded to fp16 first, so q is computed with the stored scale
    q = torch.round(w / scale.float()).clamp(-127, 127).to(torch.int8)
    return q, scale


def dequantize_state(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with every ``<key>.q8`` / ``<key>.q8scale`` pair turned back into a float ``<key>``."""
    out = {k: v for k, v in state.items() if not k.endswith((Q8, Q8_SCALE))}
    for key in (k for k in state if k.endswith(Q8)):
        name = key[: -len(Q8)]
        scale = state.get(name + Q8_SCALE)
        if scale is None:
            raise ValueError(f"{key} has no {name + Q8_SCALE}")
        out[name] = state[key].float() * scale.float()
    return out


def save_checkpoint(directory: str | Path, model: GXN, vocab: Vocabulary, train_cfg: TrainConfig | None = None,
                    meta: dict | None = None, half: bool = False, quantize: Sequence[str] = ()) -> Path:
    """Write config.json, model.safetensors (fp16 if ``half``) and vocab.json into ``directory``.
    ``quantize``: key prefixes (e.g. ``("diffusion.unet.",)``) whose weight matrices and kernels are stored as
    int8 with per-output-channel scales (weight-only; loading turns them back into floats)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    quantized = {}
    for key in [k for k, v in state.items() if k.startswith(tuple(quantize)) and v.is_floating_point()
                and v.ndim >= 2 and v.numel() >= Q8_MIN_NUMEL]:
        q, scale = quantize_int8(state.pop(key))
        quantized[key + Q8], quantized[key + Q8_SCALE] = q, scale
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    save_file({**state, **quantized}, str(directory / WEIGHTS), metadata={"format": FORMAT})
    vocab.save(directory / VOCAB)
    config = {"format": FORMAT, "model": to_dict(model.cfg),
              "train": to_dict(train_cfg) if train_cfg is not None else None, "meta": meta or {}}
    (directory / CONFIG).write_text(json.dumps(config, indent=2))
    return directory


def read_config(directory: str | Path) -> dict:
    path = Path(directory) / CONFIG
    if not path.is_file():
        raise CheckpointError(f"{path}: missing (a checkpoint folder needs {CONFIG}, {WEIGHTS} and {VOCAB})")
    try:
        config = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a lookimagine checkpoint config (expected format {FORMAT!r})")
    return config


def upgrade_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Weights saved before the GAN's generator was renamed ``gan`` (it was ``generator``, a name it shared
    with the random-number generators) load under the new name."""
    return {("gan." + k[len("generator."):] if k.startswith("generator.") else k): v for k, v in state.items()}


def load_checkpoint(directory: str | Path, device: str | torch.device = "cpu") -> tuple[GXN, Vocabulary, dict]:
    """Load (model in eval mode, vocabulary, config dict) from a checkpoint directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"{directory}: checkpoint folder not found")
    config = read_config(directory)
    try:
        model_cfg = from_dict(ModelConfig, config["model"])
    except (KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{directory / CONFIG}: bad model config ({e})") from None
    vocab_path = directory / VOCAB
    if not vocab_path.is_file():
        raise CheckpointError(f"{vocab_path}: missing")
    try:
        vocab = Vocabulary.load(vocab_path)
    except ValueError as e:
        raise CheckpointError(f"{vocab_path}: {e}") from None
    if len(vocab) != model_cfg.vocab_size:
        raise CheckpointError(f"{vocab_path}: {len(vocab)} words but the model expects {model_cfg.vocab_size}")
    weights_path = directory / WEIGHTS
    if not weights_path.is_file():
        raise CheckpointError(f"{weights_path}: missing")
    try:
        state = dequantize_state(upgrade_state_dict(load_file(str(weights_path))))
    except (SafetensorError, OSError, ValueError) as e:
        raise CheckpointError(f"{weights_path}: unreadable safetensors file ({e})") from None
    model = GXN(model_cfg)
    expected = model.state_dict()
    missing, unexpected = sorted(set(expected) - set(state)), sorted(set(state) - set(expected))
    if missing or unexpected:
        raise CheckpointError(f"{weights_path}: does not match its config "
                              f"(missing {missing[:3]}{'…' if len(missing) > 3 else ''}, "
                              f"unexpected {unexpected[:3]}{'…' if len(unexpected) > 3 else ''})")
    for key, value in state.items():
        if value.shape != expected[key].shape:
            raise CheckpointError(f"{weights_path}: {key} has shape {tuple(value.shape)}, "
                                  f"config expects {tuple(expected[key].shape)}")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=True)
    return model.to(device).eval(), vocab, config


#: what ``--device`` accepts in every command ("auto": CUDA, then MPS, then CPU)
DEVICES = ("auto", "cpu", "cuda", "mps")


def pick_device(device: str | torch.device | None = None) -> torch.device:
    """CUDA, then MPS, then CPU — unless ``device`` says otherwise (None or "auto" = choose)."""
    if device is not None and str(device) != "auto":
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass
class LoadedModel:
    """A checkpoint in eval mode with what turns raw inputs into its tensors."""

    model: GXN
    vocab: Vocabulary
    model_config: ModelConfig
    train_config: TrainConfig | None
    meta: dict
    folder: Path

    @property
    def max_len(self) -> int:
        """Tokens per caption, <bos>/<eos> included (the training setting)."""
        return self.train_config.max_len if self.train_config is not None else TrainConfig().max_len

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def tokenize(self, texts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Captions → padded ids (B, L) and lengths (B,), on the model's device."""
        tokens, lengths = encode_captions(self.vocab, texts, self.max_len)
        return tokens.to(self.device), lengths.to(self.device)

    def preprocess(self, images: Sequence[Image.Image]) -> torch.Tensor:
        """Pictures → (B, 3, S, S) in [-1, 1] at the model's image size, device and dtype."""
        size = self.model_config.image_size
        batch = torch.stack([to_tensor(im, size) for im in images])
        return batch.to(self.device, next(self.model.parameters()).dtype)


def encode_captions(vocab: Vocabulary, texts: Sequence[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Captions → ids padded with <pad> (B, L) and lengths (B,), at most ``max_len`` ids each (the words
    themselves are ``data.vocab.tokenize``'s)."""
    rows = [vocab.encode(t, max_len=max_len) for t in texts]
    tokens = torch.full((len(rows), max((len(r) for r in rows), default=0)), PAD_ID, dtype=torch.long)
    for j, row in enumerate(rows):
        tokens[j, :len(row)] = torch.tensor(row, dtype=torch.long)
    return tokens, torch.tensor([len(r) for r in rows], dtype=torch.long)


def load_model(directory: str | Path, device: str | torch.device | None = "cpu",
               half: bool | str = False) -> LoadedModel:
    """``load_checkpoint`` plus its tokenizer and preprocessing, on one device in one precision.

    ``device``: None or "auto" chooses (``pick_device``: CUDA, then MPS, then CPU), once, here.
    ``half``: fp16 weights; "auto" = fp16 on CUDA only (the demo's setting), fp32 elsewhere.
    ``directory`` is a checkpoint folder or a Hugging Face Hub model id holding one (``lookimagine.hub``:
    downloaded once, from the cache when HF_HUB_OFFLINE is set; a clear ``CheckpointError`` otherwise).
    """
    from ..errors import HubUnavailable
    from ..hub import resolve

    try:
        directory = resolve(directory)
    except HubUnavailable as e:
        raise CheckpointError(str(e)) from None
    device = pick_device(device)
    model, vocab, config = load_checkpoint(directory, device)
    if half is True or (half == "auto" and device.type == "cuda"):
        model.half()
    train = config.get("train")
    return LoadedModel(model, vocab, model.cfg, from_dict(TrainConfig, train) if train else None,
                       config.get("meta") or {}, Path(directory))
