"""Train the latent diffusion branch's image autoencoder of a dataset, once: on its training images alone.

    python -m lookimagine.tools.train_autoencoder shapes --out runs/autoencoder/shapes --steps 1500
    python -m lookimagine.tools.train_autoencoder emoji --out runs/autoencoder/emoji --steps 1500

The training images are those of the dataset's ``{ds}-imagine-latent`` preset (stage 2 of the latent
branch; shapes: its fixed scenes, emoji: the three training art styles). Loss: L1 + squared error on
the round trip, Adam, cosine learning rate, one CPU thread by default. Afterwards the latent scale is
set so that the training latents have unit variance, and the val PSNR is measured; ``<out>`` gets the
weights (``autoencoder.safetensors`` + ``autoencoder.json``) and ``record.json`` (the command, the
seconds, the PSNR). Every ``--save-every`` steps the weights and step count are saved, and a rerun
resumes from them (Adam's moments start afresh).

A checkpoint with the latent branch carries its (frozen) autoencoder, so a new stage 2 need not train one
again (35 min on one thread): ``--from-checkpoint`` writes that one to ``<out>`` instead, bit for bit.

    python -m lookimagine.tools.train_autoencoder emoji --out runs/autoencoder/emoji \
        --from-checkpoint assets/checkpoints/emoji/gxn
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from ..config import get_preset
from ..data.batching import encode_split
from ..data.images import images_to_float
from ..data.vocab import Vocabulary
from ..models.autoencoder import LatentAutoencoder, psnr
from ..training.data import train_dataset
from ..data import load_dataset


def training_images(dataset: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, val) uint8 images (N, 3, 64, 64) of the dataset's latent stage-2 preset; shapes, which draws
    fresh scenes every epoch: its first three epochs' scenes."""
    cfg = get_preset(f"{dataset}-imagine-latent").train
    sets = [train_dataset(cfg, epoch) for epoch in range(3 if cfg.fresh_data else 1)]
    val = load_dataset(dataset, "val", **cfg.dataset_kwargs())
    vocab = Vocabulary.build(sets[0].all_captions())
    train = torch.cat([encode_split(s, vocab, image_size=64, max_len=cfg.max_len).images for s in sets])
    return train, encode_split(val, vocab, image_size=64, max_len=cfg.max_len).images


@torch.no_grad()
def latent_scale(model: LatentAutoencoder, images: torch.Tensor, batch: int = 256) -> float:
    """1 / the standard deviation of the unscaled latents of ``images`` (uint8)."""
    z = torch.cat([model.encoder(images_to_float(images[s:s + batch])) for s in range(0, len(images), batch)])
    return float(1.0 / z.std())


@torch.no_grad()
def val_psnr(model: LatentAutoencoder, images: torch.Tensor, batch: int = 256) -> float:
    x = images_to_float(images)
    y = torch.cat([model(x[s:s + batch]).clamp(-1, 1) for s in range(0, len(x), batch)])
    return psnr(((y + 1) * 127.5).round() / 127.5 - 1, x)  # as the pictures are shown: rounded to uint8


def train(dataset: str, out: Path, steps: int, batch: int, lr: float, seed: int, channels: tuple[int, ...],
          latent_channels: int, save_every: int, command: str) -> dict:
    torch.manual_seed(seed)
    train_u8, val_u8 = training_images(dataset)
    model = LatentAutoencoder(channels, latent_channels)
    done, seconds = 0, 0.0
    if (out / "progress.json").is_file():  # resume
        progress = json.loads((out / "progress.json").read_text())
        model = LatentAutoencoder.load(out)
        done, seconds = progress["step"], progress["seconds"]
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(done):  # the same batches a straight run would have drawn
        torch.randint(0, len(train_u8), (batch,), generator=gen)
    start = time.time() - seconds
    for step in range(done, steps):
        for group in opt.param_groups:
            group["lr"] = lr * 0.5 * (1 + torch.cos(torch.tensor(step / steps * torch.pi)).item())
        x = images_to_float(train_u8[torch.randint(0, len(train_u8), (batch,), generator=gen)])
        y = model(x)
        loss = F.l1_loss(y, x) + F.mse_loss(y, x)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % save_every == 0 or step + 1 == steps:
            model.save(out)
            (out / "progress.json").write_text(json.dumps({"step": step + 1, "seconds": time.time() - start}))
            print(f"step {step + 1}/{steps}  loss {loss.item():.4f}  {time.time() - start:.0f}s", file=sys.stderr,
                  flush=True)
    model.scale.fill_(latent_scale(model, train_u8))
    record = {"command": command, "dataset": dataset, "steps": steps, "batch": batch, "lr": lr, "seed": seed,
              "channels": list(channels), "latent_channels": latent_channels,
              "parameters": sum(p.numel() for p in model.parameters()),
              "train_images": int(len(train_u8)), "seconds": round(time.time() - start, 1),
              "threads": torch.get_num_threads(), "scale": float(model.scale),
              "val_psnr_db": round(val_psnr(model, val_u8), 2)}
    model.save(out, {"record": "record.json"})
    (out / "record.json").write_text(json.dumps(record, indent=1))
    return record


def extract(checkpoint: str | Path, out: Path, command: str) -> dict:
    """Write the autoencoder that a latent-branch checkpoint carries to ``out`` (weights, config, record)."""
    from ..models.checkpoint import load_checkpoint

    model, _, _ = load_checkpoint(checkpoint)
    diffusion = getattr(model, "diffusion", None)
    if diffusion is None or diffusion.autoencoder is None:
        raise SystemExit(f"{checkpoint} has no latent diffusion branch, hence no autoencoder")
    record = {"command": command, "from_checkpoint": str(checkpoint)}
    diffusion.autoencoder.save(out, meta={"from_checkpoint": str(checkpoint)})
    (out / "record.json").write_text(json.dumps(record, indent=1))
    return record


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset", choices=["shapes", "emoji"])
    p.add_argument("--out", required=True)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--channels", default="32,64")
    p.add_argument("--latent-channels", type=int, default=4)
    p.add_argument("--save-every", type=int, default=250)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--from-checkpoint", help="write the autoencoder this latent-branch checkpoint carries instead")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    command = "python -m lookimagine.tools.train_autoencoder " + " ".join(argv if argv is not None else sys.argv[1:])
    if a.from_checkpoint:
        print(json.dumps(extract(a.from_checkpoint, Path(a.out), command), indent=1))
        return
    record = train(a.dataset, Path(a.out), a.steps, a.batch, a.lr, a.seed, tuple(int(c) for c in a.channels.split(",")),
                   a.latent_channels, a.save_every, command)
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
