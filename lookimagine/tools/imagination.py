"""The imagination figures of a dataset's text→image branch, over seeds, into ``assets/results/imagination.json``.

    python -m lookimagine.tools.imagination shapes --runs runs/latent/shapes-s0/stage3 runs/latent/shapes-s1/stage3 \\
        runs/latent/shapes-s2/stage3 --judge runs/stage1/shapes-s0 --split test --out assets/results/imagination.json

Each run is a checkpoint (or run folder) with a text→image branch; the judge is a retrieval model of
another seed (``evaluation.imagination`` says what each figure is). The dataset's entry of ``--out`` is
replaced; the other datasets' entries are kept. ``--grid`` also writes a picture: rows of captions, a real
picture of each, then 4 samples of the first run.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
from pathlib import Path

import numpy as np
import torch

from ..config import ModelConfig, TrainConfig, from_dict
from ..data import load_dataset
from ..data.batching import encode_split
from ..evaluation.evaluate_checkpoint import resolve_checkpoint
from ..evaluation.imagination import (diversity_ratio, first_captions, imagine, judge_figures, to_u8,
                                      tokens_of)
from ..models.autoencoder import psnr
from ..models.checkpoint import load_checkpoint
from ..training.health import conditioning_probe

SHAPES_POOL = {"n": 20_000, "seed": 0}  # stage 1's fixed training scenes: the perfect sampler's pool


def _split(dataset: str, train_cfg: TrainConfig, split: str):
    return load_dataset(dataset, split, **train_cfg.dataset_kwargs())


@functools.lru_cache(maxsize=1)
def _shapes_pool():
    """(the perfect sampler's training scenes, their scene graphs), loaded once per process."""
    pool = load_dataset("shapes", "train", **SHAPES_POOL)
    return pool, [pool.scene_of(i) for i in range(len(pool))]


def _pool_truth(captions: list[str]) -> np.ndarray:
    """(pool scenes, captions) bool: caption j is true of pool scene i, by the checker."""
    from ..data.shapes import truth_matrix

    return truth_matrix(captions, _shapes_pool()[1])


def _pool_picture(i: int) -> torch.Tensor:
    """Pool scene i as uint8 (3, 64, 64)."""
    from ..data.images import fit_square

    return torch.from_numpy(np.asarray(fit_square(_shapes_pool()[0].load_image(int(i)), 64)).copy()).permute(2, 0, 1)


def perfect_sampler(ds, first_caps: list[str], rng: np.random.Generator) -> tuple[torch.Tensor, float]:
    """Shapes: for each caption, a training scene it is true of, drawn at random (uint8), and the share found."""
    truth = _pool_truth(first_caps)  # (scenes, captions)
    images, found = [], 0
    for j in range(len(first_caps)):
        true_scenes = np.flatnonzero(truth[:, j])
        if len(true_scenes) == 0:
            images.append(torch.full((3, 64, 64), 255, dtype=torch.uint8))
            continue
        found += 1
        images.append(_pool_picture(rng.choice(true_scenes)))
    return torch.stack(images), found / len(first_caps)


def perfect_sampler_probe(captions: list[str], seed: int = 0) -> float:
    """Shapes: the conditioning probe of a perfect sampler (4 random training scenes each caption is true of):
    what a faithful, diverse generator scores. A caption true of many scenes leaves most of a picture to chance,
    so even a perfect sampler's pictures owe little of their variance to the text."""
    truth = _pool_truth(captions)
    rng = np.random.default_rng(seed)

    def draw(_generator) -> torch.Tensor:
        return torch.stack([_pool_picture(rng.choice(np.flatnonzero(truth[:, j]))).float()
                            for j in range(len(captions))])
    return conditioning_probe(draw, n_draws=4, seed=seed)


def diversity_captions(dataset: str, ds, split, n_captions: int = 16, rng=None) -> tuple[list[str], list[torch.Tensor]]:
    """Captions true of many pictures, with 4 of those pictures each (uint8 stacks).

    shapes: distinct first captions of the split true of ≥ 1% of the perfect sampler's training scenes, with
    4 such scenes at random; emoji: names drawn in ≥ 2 styles in the split, with those drawings."""
    if dataset == "shapes":
        owner = split.image_of_caption.numpy()
        caps = list(dict.fromkeys(split.captions[int(np.flatnonzero(owner == i)[0])] for i in range(len(ds))))
        truth = _pool_truth(caps)
        chosen = [j for j in range(len(caps)) if truth[:, j].mean() >= 0.01][:n_captions]
        stacks = []
        for j in chosen:
            picks = rng.choice(np.flatnonzero(truth[:, j]), size=4, replace=False)
            stacks.append(torch.stack([_pool_picture(i) for i in picks]))
        return [caps[j] for j in chosen], stacks
    by_name: dict[str, list[int]] = {}
    for i in range(len(ds)):
        by_name.setdefault(ds.captions_of(i)[0], []).append(i)
    names = [n for n, idx in by_name.items() if len(idx) >= 2][:n_captions]
    return names, [split.images[by_name[n]] for n in names]


def probe(model, vocab, captions: list[str]) -> float:
    tokens, lengths = tokens_of(vocab, captions)
    txt = model.eval().encode_text(tokens, lengths)
    return conditioning_probe(lambda gen: model.draw(txt, generator=gen), n_draws=4, seed=0)


def branch_name(cfg: ModelConfig) -> str:
    if cfg.t2i == "diffusion":
        return f"{cfg.diffusion_space} diffusion"
    return cfg.t2i


def load_with_sampler(run: str, sampler: dict | None = None):
    """``load_checkpoint`` of a run, its sampler set from ``sampler`` (ModelConfig fields
    ``diffusion_sample_steps``, ``diffusion_guidance``, ``imagine_best_of``) instead of the checkpoint's, as
    chosen on val."""
    model, vocab, config = load_checkpoint(resolve_checkpoint(run))
    model.set_sampler(sampler)
    return model, vocab, config


def run_figures(run: str, dataset: str, split_name: str, judge, judge_vocab, n: int, truth, diversity,
                sampler: dict | None = None) -> dict:
    """``sampler``: see ``load_with_sampler``."""
    model, vocab, config = load_with_sampler(run, sampler)
    model_cfg = model.cfg
    ds = _split(dataset, from_dict(TrainConfig, config["train"]), split_name)
    split = encode_split(ds, vocab, image_size=model_cfg.image_size, max_len=20)
    first, _ = first_captions(split, n)
    fakes = imagine(model, split, first, seed=0)
    figures = judge_figures(judge, judge_vocab, split, {"imagined": fakes}, n, truth)["imagined"]
    distinct = list(dict.fromkeys(split.captions))[:16]
    out = {"run": str(resolve_checkpoint(run)), "seed": config["train"]["seed"],
           "encoders_from": config["train"].get("init_from"), **figures,
           "probe": probe(model, vocab, distinct), **(diversity_ratio(model, vocab, *diversity) if diversity else {})}
    if model.diffusion is not None and model.diffusion.autoencoder is not None:
        from ..data.images import images_to_float

        with torch.no_grad():
            x = images_to_float(split.images[:n])
            recon = torch.cat([model.diffusion.autoencoder(x[s:s + 200]).clamp(-1, 1) for s in range(0, n, 200)])
        out["reconstruction"] = {"psnr_db": psnr(to_u8(recon).float() / 127.5 - 1, x),
                                 **judge_figures(judge, judge_vocab, split, {"r": to_u8(recon)}, n, truth)["r"]}
    out["branch"] = branch_name(model_cfg)
    out["sampler"] = ({"name": "DDIM", "steps": model_cfg.diffusion_sample_steps,
                       "guidance": model_cfg.diffusion_guidance} if model_cfg.t2i == "diffusion" else
                      {"name": "GAN", "steps": 1})
    if model_cfg.imagine_best_of > 1:  # each picture the best of k drawings by GXN's own s* (GXN.draw_best_of)
        out["sampler"]["best_of"] = model_cfg.imagine_best_of
    return out


def sheet(run: str, dataset: str, out: Path, rows_per_split: int = 5, sampler: dict | None = None,
          loaded: tuple | None = None, label: str = "") -> Path:
    """A picture of what the branch imagines: for captions of the test split (and, on shapes, of the held-out
    colour–shape pairs), the real picture the caption came with, then 4 samples (seeds 0–3) of ``run``.
    ``loaded``: (model, vocab, config) already loaded (and perhaps changed) instead of loading ``run``;
    ``label``: said after the branch in the title."""
    from PIL import Image, ImageDraw

    from ..data.images import fit_square, from_tensor
    from ..data.preview import _font, wrap

    # the sampler the figures were measured with
    model, vocab, config = loaded if loaded is not None else load_with_sampler(run, sampler)
    train_cfg = from_dict(TrainConfig, config["train"])
    splits = ["test", "test-heldout"] if dataset == "shapes" else ["test"]
    items = []
    for name in splits:
        ds = _split(dataset, train_cfg, name)
        picks = np.linspace(0, len(ds) - 1, rows_per_split).round().astype(int).tolist()
        items += [(name, ds.load_image(i), ds.captions_of(i)[0]) for i in picks]
    cell, pad, text_w = 96, 8, 250
    font, bold = _font(12), _font(13)
    width = pad + 5 * (cell + pad) + text_w
    picture = Image.new("RGB", (width, 52 + len(items) * (cell + pad)), "white")
    draw = ImageDraw.Draw(picture)
    cfg = model.cfg
    how = (f"{branch_name(cfg)}, DDIM {cfg.diffusion_sample_steps} steps, guidance {cfg.diffusion_guidance}"
           if cfg.t2i == "diffusion" else "GAN") + (f", best of {cfg.imagine_best_of}" if cfg.imagine_best_of > 1 else "")
    draw.text((pad, 8), f"GXN imagines · {dataset} ({how}{label}) · {run}", fill="black", font=bold)
    draw.text((pad, 28), "real picture  |  four samples of its caption (seeds 0-3)  |  the caption (split)",
              fill=(110, 110, 110), font=font)
    y = 52
    for split_name, image, caption in items:
        tokens, lengths = tokens_of(vocab, [caption])
        with torch.no_grad():
            txt = model.eval().encode_text(tokens, lengths)
            drawn = [model.draw(txt, generator=torch.Generator().manual_seed(s))[0] for s in range(4)]
        tiles = [fit_square(image, cell)] + [from_tensor(x).resize((cell, cell), Image.NEAREST) for x in drawn]
        for j, tile in enumerate(tiles):
            picture.paste(tile, (pad + j * (cell + pad), y))
        draw.text((pad + 5 * (cell + pad), y + 4), "\n".join(wrap(caption, font, text_w - pad)[:4]), fill="black",
                  font=font)
        draw.text((pad + 5 * (cell + pad), y + cell - 18), split_name, fill=(110, 110, 110), font=font)
        y += cell + pad
    out.parent.mkdir(parents=True, exist_ok=True)
    picture.save(out)
    return out


def mean_std(values: list[float]) -> dict:
    a = np.asarray(values, dtype=float)
    return {"mean": float(a.mean()), "std": float(a.std(ddof=1)) if len(a) > 1 else 0.0, "values": a.tolist()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dataset", choices=["shapes", "emoji"])
    p.add_argument("--runs", nargs="+", required=True)
    p.add_argument("--judge", required=True)
    p.add_argument("--split", default="test")
    p.add_argument("--n", type=int, default=1000, help="queries: the first n images of the split")
    p.add_argument("--out", default="assets/results/imagination.json")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, help="DDIM steps instead of the checkpoint's (choose on val)")
    p.add_argument("--guidance", type=float, help="guidance scale instead of the checkpoint's (choose on val)")
    p.add_argument("--best-of", type=int, help="show the best of k drawings by GXN's own s* instead of the "
                                               "checkpoint's setting (imagine_best_of; choose on val)")
    p.add_argument("--sheet", help="also write a picture of the first run's samples here (PNG)")
    p.add_argument("--quick", action="store_true",
                   help="R-precision and the probe only (no perfect sampler, diversity or sheet): for choosing on val")
    a = p.parse_args(argv)
    sampler = {k: v for k, v in (("diffusion_sample_steps", a.steps), ("diffusion_guidance", a.guidance),
                                 ("imagine_best_of", a.best_of)) if v is not None}
    torch.set_num_threads(a.threads)
    command = "python -m lookimagine.tools.imagination " + " ".join(argv if argv is not None else sys.argv[1:])
    judge_dir = resolve_checkpoint(a.judge)
    judge, judge_vocab, judge_config = load_checkpoint(judge_dir)
    ds = _split(a.dataset, from_dict(TrainConfig, judge_config["train"]), a.split)
    split = encode_split(ds, judge_vocab, image_size=64, max_len=20)
    n = min(a.n, len(ds))
    truth = ds.truth_matrix()
    first, _ = first_captions(split, n)
    rng = np.random.default_rng(0)
    pictures = {"real": split.images[:n]}
    found = None
    if a.dataset == "shapes" and not a.quick:
        pictures["perfect_sampler"], found = perfect_sampler(ds, [split.captions[r] for r in first], rng)
    ceilings = judge_figures(judge, judge_vocab, split, pictures, n, truth)
    diversity = None if a.quick else diversity_captions(a.dataset, ds, split, rng=rng)
    runs = [run_figures(r, a.dataset, a.split, judge, judge_vocab, n, truth, diversity, sampler) for r in a.runs]
    keys = [k for k in ("r_precision", "r_precision_truth", "probe", "diversity_ratio") if k in runs[0]]
    if a.quick:
        for r in runs:
            r.pop("reconstruction", None)
    entry = {"command": command, "split": a.split, "n_queries": n, "n_candidates": 100,
             "branch": runs[0]["branch"], "sampler": runs[0]["sampler"],
             **{k: mean_std([r[k] for r in runs]) for k in keys},
             "r_precision_real": ceilings["real"]["r_precision"],
             "judge": {"path": str(judge_dir), "seed": judge_config["train"]["seed"],
                       "best_epoch": judge_config["meta"].get("epoch"),
                       "val_rsum": (judge_config["meta"].get("val") or {}).get("rsum")},
             "seeds": [r["seed"] for r in runs], "per_seed": runs}
    if truth is not None:
        entry["r_precision_truth_real"] = ceilings["real"]["r_precision_truth"]
        entry["r_precision_truth_chance"] = ceilings["real"]["r_precision_truth_chance"]
    if found is not None:
        entry["perfect_sampler"] = {"r_precision": ceilings["perfect_sampler"]["r_precision"],
                                    "r_precision_truth": ceilings["perfect_sampler"]["r_precision_truth"],
                                    "probe": perfect_sampler_probe(list(dict.fromkeys(split.captions))[:16]),
                                    "captions_found": found, "pool": SHAPES_POOL}
    if "reconstruction" in runs[0]:
        entry["reconstruction"] = runs[0]["reconstruction"]
    out = Path(a.out)
    everything = json.loads(out.read_text()) if out.is_file() else {}
    everything[a.dataset] = entry
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(everything, indent=1))
    if a.sheet:
        entry["sheet"] = str(sheet(a.runs[0], a.dataset, Path(a.sheet), sampler=sampler))
        out.write_text(json.dumps({**everything, a.dataset: entry}, indent=1))
    print(json.dumps({k: v for k, v in entry.items() if k != "per_seed"}, indent=1))


if __name__ == "__main__":
    main()
