"""Training speed: what one optimisation step and one epoch of each stage cost, on one CPU thread.

    python -m lookimagine.tools.training_speed shapes --runs runs/staged2/shapes-s0 \\
        --json assets/results/benchmarks/training_speed_shapes.json
    python -m lookimagine.tools.training_speed emoji --recipe latent --runs runs/final/emoji-s1 \\
        --json assets/results/benchmarks/training_speed_emoji_latent.json

For each stage of the staged recipe (``scripts/staged.sh``: stage 1 from scratch, the control's fine-tuning,
stage 2, stage 3 = GXN), started from the checkpoints of one seed's run, and for each memory format of the
convolutions (NCHW, the format of every run before ``channels_last``; NHWC), in one process:
- samples per second of the training step (the figure the training records keep per epoch), timed over
  ``--steps`` batches after ``--warmup``; formats alternate and the whole round repeats ``--repeats`` times,
  so a drift in other load on the machine hits both alike (the median is kept);
- the per-epoch cost outside the steps: validation, the conditioning probe of a model that draws, and a
  fresh training set (shapes), counted for the epochs that validate (``val_every``);
- the latent diffusion branch: encoding the training pictures once into the trainer's latent cache
  (``training/latents.py``; once a run, or once an epoch where the picture set changes), and the same NHWC
  steps without the cache (every batch encoded afresh, as before it), in the same rounds.
From those: seconds per epoch and per stage, and how many epochs of the control fit in the time GXN spends
on stages 2 and 3 — the ``{dataset}-baseline-wall`` preset's ``epochs`` (GXN against its baseline at equal
wall-clock). The training records' own samples/s are not used for that: how fast a run went depended on
what else the two cores ran (up to 2× slower, and not all alike). Run it with at most one other job on a
two-core machine: a third one time-slices the cores and skews the stages' ratio.

``--compile`` also times ``torch.compile`` of the image encoder and the GAN in stage 3 (warm-up included).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

from ..config import Preset, get_preset
from ..data.batching import iterate_batches
from ..training.records import validate
from ..training.trainer import Trainer

# stage name → (preset suffix, the run folder its init_from is taken from, or None: from scratch)
STAGES = {"stage1": ("baseline", None), "baseline": ("baseline-ft", "stage1"), "stage2": ("imagine", "stage1"),
          "gxn": ("gxn-ft", "stage2")}
# the latent diffusion recipe (scripts/latent.sh): the same stage 1 and control, its own stages 2 and 3
RECIPES = {"gan": {}, "latent": {"stage2": "imagine-latent", "gxn": "gxn-latent-ft"}}
FORMATS = {"nchw": False, "nhwc": True}


def stage_presets(dataset: str, recipe: str = "gan") -> dict[str, Preset]:
    """{stage: its preset} of a dataset's staged recipe (``RECIPES``: the GAN branch's or the latent one's)."""
    return {stage: get_preset(f"{dataset}-{RECIPES[recipe].get(stage, suffix)}")
            for stage, (suffix, _) in STAGES.items()}


def _trainer(preset: Preset, stage: str, runs: Path, channels_last: bool, out: Path,
             cache_latents: bool = True) -> Trainer:
    init = STAGES[stage][1]
    cfg = dataclasses.replace(preset.train, num_threads=1, channels_last=channels_last, cache_latents=cache_latents,
                              init_from=str(runs / init / "best") if init else None)
    return Trainer(preset.model, cfg, out, preset=preset.name, progress=False)


def time_steps(trainer: Trainer, warmup: int, steps: int) -> tuple[float, float]:
    """(samples per second over ``steps`` batches, seconds of the ``warmup`` batches before them)."""
    cfg = trainer.train_cfg
    batches = iterate_batches(trainer.train_split, cfg.batch_size, trainer.gen)
    todo = [next(batches) for _ in range(warmup + steps)]
    t0 = time.perf_counter()
    for batch in todo[:warmup]:
        trainer.step(batch, 0)
    t1 = time.perf_counter()
    for batch in todo[warmup:]:
        trainer.step(batch, 0)
    seconds = time.perf_counter() - t1
    return sum(b.images.shape[0] for b in todo[warmup:]) / seconds, t1 - t0


def epoch_overhead(trainer: Trainer) -> tuple[float, float]:
    """Seconds of an epoch spent outside the training steps: (validation and the probe, a fresh training set)."""
    trainer.val_truth  # noqa: B018 - the checker's truth is computed once per run, not per epoch: not timed
    t0 = time.perf_counter()
    validate(trainer.model, trainer.val_split, trainer.device, trainer.val_truth)
    trainer.probe()
    t1 = time.perf_counter()
    if trainer.train_cfg.fresh_data:
        trainer.next_training_set(1)
    return t1 - t0, time.perf_counter() - t1


def measure(dataset: str, runs: Path, warmup: int = 3, steps: int = 12, repeats: int = 2,
            compile_gxn: bool = False, presets: dict[str, Preset] | None = None, recipe: str = "gan") -> dict:
    """The benchmark (module docstring); ``presets``: {stage: Preset} instead of the recipe's (tests)."""
    torch.set_num_threads(1)
    presets = presets or stage_presets(dataset, recipe)
    stages: dict[str, dict] = {}
    for stage, preset in presets.items():
        rates: dict[str, list[float]] = {f: [] for f in FORMATS}
        cache: dict[str, list[float]] = {f: [] for f in FORMATS}
        uncached: list[float] = []
        overhead, fresh, n_images = [], [], 0
        for _ in range(repeats):
            for fmt, channels_last in FORMATS.items():
                with tempfile.TemporaryDirectory() as tmp:
                    trainer = _trainer(preset, stage, runs, channels_last, Path(tmp))
                    n_images = trainer.train_split.images.shape[0]
                    if trainer.latent_cache is not None:  # the set's latents, encoded before the steps
                        t0 = time.perf_counter()
                        trainer.latent_cache.fill(trainer.epoch_images)
                        cache[fmt].append(time.perf_counter() - t0)
                    rates[fmt].append(time_steps(trainer, warmup, steps)[0])
                    if fmt == "nchw":
                        validation, new_set = epoch_overhead(trainer)
                        overhead.append(validation + new_set)
                        fresh.append(new_set)
                print(f"{dataset} {stage} {fmt}: {rates[fmt][-1]:.1f} samples/s", file=sys.stderr)
            if cache["nhwc"]:  # the latent cache's worth: the same NHWC steps encoding every batch afresh
                with tempfile.TemporaryDirectory() as tmp:
                    trainer = _trainer(preset, stage, runs, True, Path(tmp), cache_latents=False)
                    uncached.append(time_steps(trainer, warmup, steps)[0])
                print(f"{dataset} {stage} nhwc, no latent cache: {uncached[-1]:.1f} samples/s", file=sys.stderr)
        row = {"preset": preset.name, "epochs": preset.train.epochs, "images_per_epoch": n_images,
               "epoch_overhead_seconds": round(statistics.median(overhead), 2)}
        # the latent cache encodes its picture set once a run, or once an epoch where the set changes;
        # validation (the overhead) runs every val_every epochs and after the last
        new_set_each_epoch = preset.train.fresh_data or preset.train.framing_augment > 0
        epochs, every = preset.train.epochs, preset.train.val_every
        row["validations"] = sum(1 for e in range(epochs) if (e + 1) % every == 0 or e + 1 == epochs)
        new_set = statistics.median(fresh)
        for fmt in FORMATS:
            sps = statistics.median(rates[fmt])
            epoch = n_images / sps + row["epoch_overhead_seconds"]
            seconds = ((n_images / sps + new_set) * epochs
                       + (row["epoch_overhead_seconds"] - new_set) * row["validations"])
            row[fmt] = {"samples_per_second": round(sps, 1), "runs": [round(r, 1) for r in rates[fmt]],
                        "epoch_seconds": round(epoch, 1), "stage_seconds": round(seconds, 1)}
            if cache[fmt]:
                fill = statistics.median(cache[fmt])
                row[fmt]["latent_cache_seconds"] = round(fill, 1)
                if new_set_each_epoch:
                    row[fmt]["epoch_seconds"] = round(epoch + fill, 1)
                row[fmt]["stage_seconds"] = round(seconds + fill * (epochs if new_set_each_epoch else 1), 1)
        row["nhwc_speedup"] = round(row["nhwc"]["samples_per_second"] / row["nchw"]["samples_per_second"], 3)
        if uncached:
            row["nhwc_no_latent_cache"] = {"samples_per_second": round(statistics.median(uncached), 1),
                                           "runs": [round(r, 1) for r in uncached]}
            row["latent_cache_speedup"] = round(row["nhwc"]["samples_per_second"]
                                                / row["nhwc_no_latent_cache"]["samples_per_second"], 3)
        stages[stage] = row
    result = {"dataset": dataset, "recipe": recipe, "stages": stages, "equal_wall_clock": {}}
    for fmt in FORMATS:
        gxn_extra = stages["stage2"][fmt]["stage_seconds"] + stages["gxn"][fmt]["stage_seconds"]
        control_epoch = stages["baseline"][fmt]["epoch_seconds"]
        result["equal_wall_clock"][fmt] = {
            "gxn_after_stage1_seconds": round(gxn_extra, 1), "control_epoch_seconds": control_epoch,
            "control_epochs": round(gxn_extra / control_epoch, 1)}
    if compile_gxn:
        result["compile_gxn"] = _time_compile(presets["gxn"], runs, warmup, steps)
    return result


def _time_compile(preset: Preset, runs: Path, warmup: int, steps: int) -> dict:
    """Stage 3 with ``torch.compile`` on the image encoder and the GAN (NHWC), against the same without."""
    out = {}
    for label in ("eager", "compiled"):
        with tempfile.TemporaryDirectory() as tmp:
            trainer = _trainer(preset, "gxn", runs, True, Path(tmp))
            if label == "compiled":
                trainer.model.image_encoder = torch.compile(trainer.model.image_encoder)
                trainer.model.gan = torch.compile(trainer.model.gan)
            sps, warm = time_steps(trainer, warmup, steps)
            out[label] = {"samples_per_second": round(sps, 1), "warmup_seconds": round(warm, 1)}
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m lookimagine.tools.training_speed", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("dataset", choices=["shapes", "emoji"])
    ap.add_argument("--runs", required=True, type=Path, help="one seed's staged run folder (stage1/, stage2/)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--recipe", choices=sorted(RECIPES), default="gan",
                    help="stages 2 and 3 of the GAN branch or of the latent diffusion branch")
    ap.add_argument("--compile", action="store_true", help="also time torch.compile in stage 3 (GAN recipe)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    result = measure(args.dataset, args.runs, args.warmup, args.steps, args.repeats, args.compile, recipe=args.recipe)
    result.update(command="python -m lookimagine.tools.training_speed " + " ".join(argv if argv is not None else sys.argv[1:]),
                  torch=torch.__version__, machine=platform.processor() or platform.machine(), threads=1)
    text = json.dumps(result, indent=2)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
