"""Timed training steps of presets, in a process of their own: plain, or under ``accelerate launch``.

    python -m lookimagine.tools.timed_training --jobs jobs.json --out steps.json --device cuda
    accelerate launch --num_processes 1 --mixed_precision bf16 -m lookimagine.tools.timed_training \\
        --jobs jobs.json --out steps.json

``jobs.json`` is a list of ``{"name", "preset", "set": {field: value}, "warmup", "steps"}``; ``set``
overrides TrainConfig or ModelConfig fields as ``train --set`` does. Each job builds the preset's
``Trainer`` (under an ``accelerate.Accelerator`` when launched by ``accelerate launch``, which then sets
the device and the mixed precision), runs ``warmup`` steps, then times ``steps`` more
(``training_speed.time_steps``), and reports samples per second and peak memory. ``gpu_check`` runs it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import torch

from ..train import LAUNCHED  # set by ``accelerate launch`` in every process it starts
from ..training.cli import split_overrides


def peak_memory_mb(device: torch.device) -> float:
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # the process's peak RSS (KiB on Linux)


def run_job(job: dict, device: str, accelerated: bool) -> dict:
    """One job: build the trainer, time its steps; the figures as a dict."""
    from ..config import get_preset
    from .training_speed import time_steps
    from ..training.trainer import Trainer, make_accelerator

    preset = get_preset(job["preset"])
    train_changes, model_changes = split_overrides(preset, job.get("set", {}))
    train_cfg = dataclasses.replace(preset.train, **train_changes)
    model_cfg = dataclasses.replace(preset.model, **model_changes)
    accelerator = make_accelerator(train_cfg, cpu=device == "cpu") if accelerated else None
    dev = accelerator.device if accelerator is not None else torch.device(device)
    if dev.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(dev)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(model_cfg, train_cfg, out, device=str(dev), preset=preset.name, progress=False,
                          accelerator=accelerator)
        setup = time.perf_counter() - start
        rate, warm = time_steps(trainer, job.get("warmup", 2), job.get("steps", 10))
    return {"name": job["name"], "preset": preset.name, "device": str(dev),
            "mixed_precision": accelerator.mixed_precision if accelerator is not None else "no",
            "accelerate": accelerator is not None, "batch_size": train_cfg.batch_size,
            "steps": job.get("steps", 10), "samples_per_second": round(rate, 1),
            "step_ms": round(1000 * train_cfg.batch_size / rate, 2), "warmup_seconds": round(warm, 2),
            "setup_seconds": round(setup, 2), "peak_memory_mb": round(peak_memory_mb(dev), 1),
            "threads": torch.get_num_threads()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.tools.timed_training", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--jobs", type=Path, required=True, help="a JSON list of jobs")
    parser.add_argument("--out", type=Path, required=True, help="write the figures here (a JSON list)")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu",
                        help="device without accelerate (default: cuda when there is one)")
    args = parser.parse_args(argv)
    accelerated = LAUNCHED in os.environ
    results = []
    for job in json.loads(args.jobs.read_text()):
        try:
            results.append(run_job(job, args.device, accelerated))
        except Exception as e:  # one failed job is reported; the next still runs
            results.append({"name": job.get("name"), "error": f"{type(e).__name__}: {e}"})
            print(f"{job.get('name')}: {type(e).__name__}: {e}", file=sys.stderr)
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
