"""Measure the demo's budgets on this machine and print the figures (asserts nothing).

    python -m lookimagine.tools.benchmark [--checkpoint assets/checkpoints/emoji] [--queries 50] \\
        [--device auto] [--json out.json] [--app]

What it measures, against the demo's budgets (``BUDGETS``: a query's median
under 100 ms, the app's first answer within 20 s of launch):

* **load**: process start → pipeline ready (Python, imports, both checkpoints,
  the gallery and its embeddings), in a fresh child process each time:
  *cold* with an empty cache (a temporary ``LOOKIMAGINE_CACHE``, so datasets
  and gallery embeddings are built from scratch) and *warm* with the cache the
  cold run left. The user's own cache is never touched.
* **queries**: latency of ``run()`` (Look + Imagine + Match, baseline and GXN,
  the default branch — the GAN for the pocket models) over N text and N image
  queries from the gallery, after 3 warm-up queries per direction; median and
  p90, plus each model's share.
* **memory**: this process's resident memory after loading and after the
  queries (VmRSS and its peak VmHWM from ``/proc/self/status``; ``getrusage``
  elsewhere).
* **torch**: threads (``--threads N`` sets them for the queries), device, versions.
  On a CPU that other work keeps busy, 2 intra-op threads can be several
  times slower per query than 1 (threads wait for each other).
* **app** (``--app``): ``python app.py --checkpoint DIR --port P`` as a child
  process, polled with ``gradio_client`` until ``/text_to_image`` answers;
  seconds from launch to that first answer (warm cache).

The JSON (``--json``) holds every figure and the command that produced it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..pipeline.layout import PipelineFolder
from .processes import REPO, launch_app, memory

DEFAULT_CHECKPOINT = PipelineFolder.shipped("emoji").root
#: the budgets this command reports against; nothing is asserted
BUDGETS = {"query_median_ms": 100, "app_first_answer_s": 20}
WARMUP = 3
_READY = "LOOKIMAGINE-BENCHMARK-READY "


# ---------------------------------------------------------------------------- small helpers


def summarise(seconds: list[float]) -> dict:
    """Median, p90, mean, min and max in milliseconds."""
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[max(0, math.ceil(0.9 * len(ms)) - 1)] if ms else None  # nearest rank
    return {"n": len(ms), "median_ms": round(statistics.median(ms), 2) if ms else None,
            "p90_ms": round(p90, 2) if ms else None, "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
            "min_ms": round(ms[0], 2) if ms else None, "max_ms": round(ms[-1], 2) if ms else None}


def torch_info(device) -> dict:
    import torch

    info = {"torch": torch.__version__, "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(), "device": str(device),
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()}
    if getattr(device, "type", str(device)) == "cuda":
        info["gpu"] = torch.cuda.get_device_name(device)
    return info


# ---------------------------------------------------------------------------- load time (child processes)


def _child_load(checkpoint: str, device: str | None) -> int:
    """Run in a child process: import, load the pipeline, print one JSON line with timestamps; the exit code."""
    imports_start = time.time()
    from lookimagine.models.checkpoint import CheckpointError
    from lookimagine.pipeline.look_imagine_match import LookImagineMatch

    imported = time.time()
    try:
        pipeline = LookImagineMatch.from_pretrained(checkpoint, device=device, progress=False)
    except CheckpointError as err:  # the parent reports this line
        print(err, file=sys.stderr)
        return 1
    ready = time.time()
    report = {"imports_start": imports_start, "imported": imported, "ready": ready, "pipeline": pipeline.name,
              "gallery": pipeline.gallery_description, "device": str(pipeline.gxn.device), **memory()}
    print(_READY + json.dumps(report), flush=True)
    return 0


def measure_load(checkpoint: str, device: str, cache: Path, timeout: float = 1800) -> dict:
    """Process start → pipeline ready, in a fresh ``python`` with ``LOOKIMAGINE_CACHE=cache``."""
    env = {**os.environ, "LOOKIMAGINE_CACHE": str(cache)}
    command = [sys.executable, "-m", "lookimagine.tools.benchmark", "--child-load", checkpoint, "--device", device]
    start = time.time()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, cwd=os.getcwd())
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith(_READY)), None)
    if proc.returncode != 0 or line is None:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"loading in a child process failed (exit {proc.returncode}): " + " | ".join(tail))
    child = json.loads(line[len(_READY):])
    return {"seconds": round(child["ready"] - start, 3),
            "interpreter_start_s": round(child["imports_start"] - start, 3),
            "imports_s": round(child["imported"] - child["imports_start"], 3),
            "from_pretrained_s": round(child["ready"] - child["imported"], 3),
            "rss_mib": child["rss_mib"], "peak_rss_mib": child["peak_rss_mib"], "device": child["device"]}


# ---------------------------------------------------------------------------- queries (this process)


def query_set(pipeline, direction: str, n: int) -> list:
    """``n`` queries of one direction from the gallery's examples (repeated when the gallery is small)."""
    pool = list(pipeline.examples(direction, n))
    if not pool:
        raise RuntimeError(f"the gallery has no {direction} examples")
    return [pool[i % len(pool)] for i in range(n)]


def time_queries(pipeline, queries: list, k: int = 5, pictures: int = 1) -> dict:
    """Latency of ``pipeline.run`` per query (both models), after ``WARMUP`` untimed queries; ``pictures``:
    how many the text→image branch imagines per text query (the demo's "samples")."""
    for q in queries[:WARMUP]:
        pipeline.run(q, k, n_images=pictures)
    total, per_model = [], {"baseline": [], "gxn": []}
    for q in queries:
        start = time.perf_counter()
        result = pipeline.run(q, k, n_images=pictures)
        total.append(time.perf_counter() - start)
        per_model["baseline"].append(result.baseline.seconds)
        per_model["gxn"].append(result.gxn.seconds)
    return {"run": summarise(total), **{name: summarise(s) for name, s in per_model.items()}}


# ---------------------------------------------------------------------------- app start to first answer


def measure_app(checkpoint: str, device: str, cache: Path, text: str, timeout: float = 180) -> dict:
    """Seconds from launching ``app.py`` to the first answer of its ``/text_to_image`` API."""
    if not (REPO / "app.py").is_file():
        return {"error": f"{REPO / 'app.py'} not found"}
    from gradio_client import Client

    env = {**os.environ, "LOOKIMAGINE_CACHE": str(cache), "GRADIO_ANALYTICS_ENABLED": "False"}
    app = launch_app(["--checkpoint", checkpoint, "--device", device], env)
    command = shlex.join(app.command)
    try:
        listening = app.wait(timeout)
        client = Client(app.url, verbose=False)
        answer = client.predict(text, api_name="/text_to_image")
        answered = time.time()
        ok = isinstance(answer, dict) and "gxn" in answer
        for _ in range(5):  # a few more answers so the app's memory reflects serving, not just start-up
            client.predict(text, api_name="/text_to_image")
        return {"seconds": round(answered - app.started, 3), "listening_s": round(listening - app.started, 3),
                "answered": ok, "command": command, "cache": "warm", **app.memory()}
    except Exception as err:  # report, never raise: the other figures still count
        tail = " | ".join(app.output().strip().splitlines()[-5:])
        return {"error": f"{type(err).__name__}: {err}", "app_log_tail": tail, "command": command}
    finally:
        app.stop()


# ---------------------------------------------------------------------------- the whole benchmark


def benchmark(checkpoint: str, n_queries: int, device: str, app: bool, threads: int | None = None,
              pictures: int = 1, best_of: int | None = None) -> dict:
    """All figures, as a dict (see the module docstring); ``threads`` sets torch's threads for the queries;
    ``pictures``: how many pictures each text query imagines; ``best_of``: the timed queries' GXN shows the
    best of that many drawings per picture (``ModelConfig.imagine_best_of``) instead of its checkpoint's
    setting (the load and app figures keep the checkpoint's)."""
    cache = Path(tempfile.mkdtemp(prefix="lookimagine-bench-cache-"))
    saved_cache_env = os.environ.get("LOOKIMAGINE_CACHE")
    try:
        load = {"cold": measure_load(checkpoint, device, cache)}  # the empty cache fills up here...
        load["warm"] = measure_load(checkpoint, device, cache)  # ...and is reused here

        os.environ["LOOKIMAGINE_CACHE"] = str(cache)  # this process reads the cache the children built
        from lookimagine.pipeline.look_imagine_match import LookImagineMatch

        if threads:
            import torch

            torch.set_num_threads(threads)
        start = time.perf_counter()
        pipeline = LookImagineMatch.from_pretrained(checkpoint, device=None if device == "auto" else device,
                                                    progress=False)
        load["in_process_s"] = round(time.perf_counter() - start, 3)
        if best_of is not None:
            pipeline.gxn.model.set_sampler({"imagine_best_of": best_of})
        mem_loaded = memory()
        texts = query_set(pipeline, "text_to_image", n_queries)
        images = query_set(pipeline, "image_to_text", n_queries)
        queries = {"k": 5, "warmup_per_direction": WARMUP, "t2i_branch": _branch(pipeline),
                   "pictures_per_text_query": pictures, "sampler": _sampler(pipeline),
                   "text_to_image": time_queries(pipeline, texts, pictures=pictures),
                   "image_to_text": time_queries(pipeline, images)}
        result = {"pipeline": pipeline.name, "gallery": pipeline.gallery_description, "load": load,
                  "queries": queries, "memory": {"after_load": mem_loaded, "after_queries": memory()},
                  "torch": torch_info(pipeline.gxn.device), "budgets": BUDGETS, "app": None}
        if app:
            result["app"] = measure_app(checkpoint, device, cache, texts[0])
        return result
    finally:
        if saved_cache_env is None:
            os.environ.pop("LOOKIMAGINE_CACHE", None)
        else:
            os.environ["LOOKIMAGINE_CACHE"] = saved_cache_env
        shutil.rmtree(cache, ignore_errors=True)


def _sampler(pipeline) -> dict | None:
    """The diffusion branch's sampler (DDIM steps, guidance), a GAN's best-of-k when k > 1 (``imagine_best_of``),
    None for a plain GAN or no branch."""
    cfg = pipeline.gxn.model.cfg  # what draws now (``benchmark``'s best_of may have changed it)
    if cfg.t2i == "gan":
        return {"name": "GAN", "best_of": cfg.imagine_best_of} if cfg.imagine_best_of > 1 else None
    if cfg.t2i != "diffusion":
        return None
    return {"name": "DDIM", "steps": cfg.diffusion_sample_steps, "guidance": cfg.diffusion_guidance,
            "space": cfg.diffusion_space}


def _branch(pipeline) -> str:
    return pipeline.gxn.model_config.t2i  # "gan", "diffusion" or "none"


def print_report(r: dict) -> None:
    """The figures, one per line, next to their budgets."""
    print(f"pipeline: {r['pipeline']} — {r['gallery']}")
    t = r["torch"]
    print(f"device: {t['device']}{' (' + t['gpu'] + ')' if 'gpu' in t else ''}; torch {t['torch']}, "
          f"{t['threads']} threads ({t['interop_threads']} inter-op), {t['cpu_count']} CPUs")
    for kind, load in r["load"].items():
        if isinstance(load, dict):
            print(f"load ({kind} cache): {load['seconds']:.2f} s from process start "
                  f"(interpreter {load['interpreter_start_s']:.2f} s, imports {load['imports_s']:.2f} s, "
                  f"from_pretrained {load['from_pretrained_s']:.2f} s; peak RSS {load['peak_rss_mib']} MiB)")
    print(f"load (in this process, warm cache): {r['load']['in_process_s']:.2f} s")
    q = r["queries"]
    for direction in ("text_to_image", "image_to_text"):
        run, b, g = q[direction]["run"], q[direction]["baseline"], q[direction]["gxn"]
        pictures = f", {q.get('pictures_per_text_query', 1)} pictures" if direction == "text_to_image" else ""
        sampler = q.get("sampler") if direction == "text_to_image" else None
        if sampler:
            pictures += (f" by DDIM, {sampler['steps']} steps" if sampler["name"] == "DDIM" else
                         f", each the best of {sampler['best_of']} drawings")
        print(f"query {direction} ({run['n']} queries, both models, {q['t2i_branch']} branch{pictures}): "
              f"median {run['median_ms']:.1f} ms, p90 {run['p90_ms']:.1f} ms "
              f"(budget: median ≤ {r['budgets']['query_median_ms']} ms) — "
              f"baseline median {b['median_ms']:.1f} ms, GXN median {g['median_ms']:.1f} ms")
    m = r["memory"]
    print(f"memory after load: RSS {m['after_load']['rss_mib']} MiB; after queries: RSS "
          f"{m['after_queries']['rss_mib']} MiB, peak {m['after_queries']['peak_rss_mib']} MiB")
    app = r.get("app")
    if app:
        if "seconds" in app:
            print(f"app start to first answer: {app['seconds']:.2f} s (serving after {app['listening_s']:.2f} s; "
                  f"budget ≤ {r['budgets']['app_first_answer_s']} s)")
        else:
            print(f"app start to first answer: failed — {app['error']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.tools.benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", default=str(DEFAULT_CHECKPOINT),
                        help="a pipeline folder (gxn/ and baseline/) or a Hub id (default: the shipped emoji models)")
    parser.add_argument("--queries", type=int, default=50, help="timed queries per direction (default 50)")
    from ..models.checkpoint import DEVICES  # imports torch: only once the command runs

    parser.add_argument("--device", choices=DEVICES, default="auto")
    parser.add_argument("--json", dest="json_path", help="also write the figures here")
    parser.add_argument("--app", action="store_true", help="also time app.py from launch to its first API answer")
    parser.add_argument("--threads", type=int, help="torch threads for the timed queries (default: torch's choice)")
    parser.add_argument("--pictures", type=int, default=1, help="pictures imagined per text query (default 1)")
    parser.add_argument("--best-of", type=int, help="the timed queries' GXN shows the best of k drawings per "
                                                    "picture (imagine_best_of) instead of its checkpoint's setting")
    parser.add_argument("--child-load", help=argparse.SUPPRESS)  # internal: the load-time child process
    args = parser.parse_args(argv)

    if args.child_load:
        return _child_load(args.child_load, None if args.device == "auto" else args.device)
    if args.queries < 1:
        parser.error("--queries must be at least 1")

    argv_used = sys.argv[1:] if argv is None else argv
    command = "python -m lookimagine.tools.benchmark " + shlex.join(argv_used)
    try:
        result = benchmark(args.checkpoint, args.queries, args.device, args.app, args.threads, args.pictures,
                           args.best_of)
    except RuntimeError as err:  # a child that could not load (missing checkpoint, ...): say why, no trace
        print(f"benchmark failed: {err}", file=sys.stderr)
        return 1
    result = {"command": command, **result}
    print_report(result)
    if args.json_path:
        Path(args.json_path).write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
