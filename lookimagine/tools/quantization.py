"""What int8 storage of the diffusion UNet costs the pictures (issue 21's ≤ 8 MB checkpoint), as JSON.

    python -m lookimagine.tools.quantization runs/emoji_gxn_fp16 --split val \\
        --out assets/results/imagination/quantization_emoji.json --sheet assets/figures/quantization_emoji.png
    python -m lookimagine.tools.quantization assets/checkpoints/emoji/gxn --apply   # ship it so

The checkpoint is saved twice to a temporary folder, as it ships (fp16) and with the UNet's weight matrices and
kernels in int8 (``save_checkpoint(quantize=("diffusion.unet.",))``), and both copies draw the same ``--n``
distinct captions of the split from the same noise. Reported: both files' sizes; PSNR of the int8 copy's picture
against the fp16 copy's (same caption, same noise) beside PSNR between two fp16 pictures of the same caption
from different noise (what the sampler's own randomness moves); the largest pixel difference; and each copy's
conditioning probe. Pictures are compared in [0, 1].
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from pathlib import Path

import torch

from ..data import load_dataset
from ..evaluation.evaluate_checkpoint import resolve_checkpoint
from ..models.checkpoint import WEIGHTS, load_model, save_checkpoint
from ..training.health import conditioning_probe

UNET = ("diffusion.unet.",)


def psnr(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per picture PSNR (dB) of (B, C, H, W) tensors in [0, 1]."""
    mse = (a - b).pow(2).flatten(1).mean(dim=1).clamp_min(1e-12)
    return 10 * torch.log10(1.0 / mse)


@torch.no_grad()
def compare(checkpoint: str, split: str = "val", n: int = 100, seed: int = 0, batch: int = 25,
            sheet: str | None = None) -> dict:
    source = load_model(resolve_checkpoint(checkpoint))
    if source.model.diffusion is None:
        raise SystemExit(f"{checkpoint}: no diffusion branch to quantize")
    captions = list(dict.fromkeys(load_dataset(source.train_config.dataset, split).all_captions()))[:n]
    with tempfile.TemporaryDirectory() as tmp:
        paths = {"fp16": Path(tmp) / "fp16", "int8": Path(tmp) / "int8"}
        for name, path in paths.items():
            save_checkpoint(path, source.model, source.vocab, source.train_config, {}, half=True,
                            quantize=UNET if name == "int8" else ())
        sizes = {name: (path / WEIGHTS).stat().st_size for name, path in paths.items()}
        models = {name: load_model(path) for name, path in paths.items()}

    def draw(name: str, texts: list[str], noise_seed: int) -> torch.Tensor:
        m = models[name]
        txt = m.model.encode_text(*m.tokenize(texts))
        return (m.model.draw(txt, generator=torch.Generator().manual_seed(noise_seed)).float() + 1) / 2

    same_noise, other_noise, max_diff, pairs = [], [], 0.0, []
    for i in range(0, len(captions), batch):
        texts = captions[i:i + batch]
        a, b = draw("fp16", texts, seed + i), draw("int8", texts, seed + i)
        c = draw("fp16", texts, seed + i + 10_000)
        same_noise.append(psnr(a, b))
        other_noise.append(psnr(a, c))
        max_diff = max(max_diff, float((a - b).abs().max()))
        pairs += list(zip(a, b))
    if sheet:  # the pairs that differ most: fp16 above, int8 below
        from torchvision.utils import save_image

        worst = torch.cat(same_noise).argsort()[:8].tolist()
        save_image(torch.cat([torch.stack([pairs[i][0] for i in worst]), torch.stack([pairs[i][1] for i in worst])]),
                   sheet, nrow=len(worst), padding=2, pad_value=1.0)
    probes = {}
    for name, m in models.items():
        txt = m.model.encode_text(*m.tokenize(captions[:16]))
        probes[name] = conditioning_probe(lambda gen, m=m, txt=txt: m.model.draw(txt, generator=gen), 4, seed)
    same, other = torch.cat(same_noise), torch.cat(other_noise)
    return {"checkpoint": str(checkpoint), "split": split, "n_captions": len(captions),
            "sampler": {"steps": source.model.cfg.diffusion_sample_steps,
                        "guidance": source.model.cfg.diffusion_guidance},
            "bytes": sizes, "megabytes": {k: round(v / 1e6, 2) for k, v in sizes.items()},
            "psnr_int8_vs_fp16_same_noise_db": {"mean": float(same.mean()), "min": float(same.min())},
            "psnr_fp16_other_noise_db": {"mean": float(other.mean()), "min": float(other.min())},
            "max_pixel_difference": max_diff, "probe": probes, **({"sheet": sheet} if sheet else {})}


def apply(checkpoint: str) -> Path:
    """Re-save a shipped checkpoint in place with its UNet in int8 (what ``report ship`` now writes), its config
    and model card otherwise unchanged but for the line that says how the weights are stored."""
    from ..config import TrainConfig, from_dict
    from ..models.checkpoint import load_checkpoint
    from ..report import UNET_INT8, WEIGHTS_LINE, WEIGHTS_LINE_INT8

    path = Path(resolve_checkpoint(checkpoint))
    model, vocab, config = load_checkpoint(path)
    if model.diffusion is None:
        raise SystemExit(f"{checkpoint}: no diffusion branch to quantize")
    save_checkpoint(path, model, vocab, from_dict(TrainConfig, config["train"]), config["meta"], half=True,
                    quantize=UNET_INT8)
    card = path / "README.md"
    if card.is_file():
        card.write_text(card.read_text().replace(f"({WEIGHTS_LINE};", f"({WEIGHTS_LINE_INT8};"))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m lookimagine.tools.quantization", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("--split", default="val")
    p.add_argument("--n", type=int, default=100, help="distinct captions of the split")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--out", help="write the JSON here")
    p.add_argument("--sheet", help="a PNG of the 8 pictures that differ most (fp16 above, int8 below)")
    p.add_argument("--apply", action="store_true",
                   help="instead: re-save CHECKPOINT in place with its UNet in int8, as report ship does")
    a = p.parse_args(argv)
    if a.apply:
        path = apply(a.checkpoint)
        print(f"{path}: {(path / WEIGHTS).stat().st_size / 1e6:.2f} MB")
        return 0
    if a.threads:
        torch.set_num_threads(a.threads)
    used = sys.argv[1:] if argv is None else argv
    result = {"command": "python -m lookimagine.tools.quantization " + shlex.join(used),
              **compare(a.checkpoint, a.split, a.n, sheet=a.sheet)}
    text = json.dumps(result, indent=1)
    print(text)
    if a.out:
        Path(a.out).parent.mkdir(parents=True, exist_ok=True)
        Path(a.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
