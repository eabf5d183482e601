"""A shipped pocket pipeline on the GPU (half precision) against the same on the CPU (fp32), query by query.

    compare_devices(Path("assets/checkpoints/shapes"), "cuda", "cpu", n_queries=100)

Both copies run the same test queries (half sentences, half gallery images,
``LookImagineMatch.examples``, spread over the test split) with k = 10; per
model column (baseline, GXN) the report gives how much of the top 10 the two
share, how often the ground truth lands at the same rank, how often the
generated captions are identical, how far the imagined pictures are apart
(mean absolute difference, 0..255), and the latency of one query (both
models, Look → Imagine → Match) on each device.

The pictures of a GPU and a CPU never match exactly, even at fp32: each device
draws the GAN's noise from its own generator (``torch.Generator(device=...)``),
so the same seed is other noise. ``pictures_mad_other_seed`` (the CPU with
seed 0 against seed 1) is the scale of "other noise" to read it against.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import numpy as np
import torch

K = 10
REFERENCE_SEED_QUERIES = 20  # text queries drawn again with another seed, for the noise scale


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else float("nan")


def latency(seconds: list[float]) -> dict:
    """Median and p90 of per-query seconds, in milliseconds."""
    return {"n": len(seconds), "median_ms": round(1000 * statistics.median(seconds), 2) if seconds else None,
            "p90_ms": round(1000 * percentile(seconds, 90), 2) if seconds else None}


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_queries(pipe, queries: list, device: torch.device, warmup: int = 2) -> tuple[list, list[float]]:
    """Each query's ``QueryResult`` (k = 10, seed 0) and its wall-clock seconds; ``warmup`` untimed queries first."""
    for q in queries[:warmup]:
        pipe.run(q, K)
    results, seconds = [], []
    for q in queries:
        _sync(device)
        start = time.perf_counter()
        results.append(pipe.run(q, K, seed=0))
        _sync(device)
        seconds.append(time.perf_counter() - start)
    return results, seconds


def _mad(a, b) -> float:
    return float(np.abs(np.asarray(a, dtype=np.float32) - np.asarray(b, dtype=np.float32)).mean())


def compare_results(first: list, second: list) -> dict:
    """Agreement of two devices' results on the same queries, per model column."""
    out = {}
    for column in ("baseline", "gxn"):
        overlap, same_order, same_gt = [], [], []
        for a, b in zip(first, second):
            x, y = getattr(a, column), getattr(b, column)
            top_a, top_b = [it.index for it in x.ranking], [it.index for it in y.ranking]
            overlap.append(len(set(top_a) & set(top_b)) / max(len(top_a), 1))
            same_order.append(top_a == top_b)
            same_gt.append(x.ground_truth_rank == y.ground_truth_rank)
        out[column] = {"top10_overlap": round(float(np.mean(overlap)), 4),
                       "top10_identical_order": round(float(np.mean(same_order)), 4),
                       "ground_truth_rank_equal": round(float(np.mean(same_gt)), 4)}
    pairs = [(a.gxn.imagined.caption, b.gxn.imagined.caption) for a, b in zip(first, second)
             if a.direction == "image_to_text" and a.gxn.imagined.caption is not None]
    out["captions_identical"] = round(float(np.mean([p == q for p, q in pairs])), 4) if pairs else None
    out["captions_compared"] = len(pairs)
    mads = [_mad(p, q) for a, b in zip(first, second) if a.direction == "text_to_image"
            for p, q in zip(a.gxn.imagined.images, b.gxn.imagined.images)]
    out["pictures_mad"] = round(float(np.mean(mads)), 3) if mads else None
    out["pictures_compared"] = len(mads)
    return out


def queries_of(pipe, n_queries: int) -> list:
    """Half sentences, half gallery images (test split), spread over the gallery."""
    n_text = n_queries // 2
    return pipe.examples("text_to_image", n_text) + pipe.examples("image_to_text", n_queries - n_text)


def compare_devices(folder: Path, device: str, reference: str = "cpu", n_queries: int = 100,
                    progress: bool = False) -> dict:
    """Load the pipeline in ``folder`` on ``device`` and on ``reference``; run the same queries on both."""
    from ..pipeline.look_imagine_match import LookImagineMatch

    report, results, pipes = {}, {}, {}
    for label, dev in (("device", device), ("reference", reference)):
        start = time.perf_counter()
        pipe = LookImagineMatch.from_pretrained(str(folder), device=dev, progress=progress)
        load_seconds = time.perf_counter() - start
        queries = queries_of(pipe, n_queries)
        results[label], seconds = run_queries(pipe, queries, torch.device(dev))
        dtype = str(next(pipe.gxn.model.parameters()).dtype).removeprefix("torch.")
        by_direction = {d: latency([s for r, s in zip(results[label], seconds) if r.direction == d])
                        for d in ("text_to_image", "image_to_text")}
        report[label] = {"device": dev, "dtype": dtype, "load_seconds": round(load_seconds, 2),
                         "threads": torch.get_num_threads(), "latency": latency(seconds), **by_direction}
        pipes[label] = pipe
    report["n_queries"] = len(results["device"])
    report["gallery"] = pipes["device"].gallery_description
    report["agreement"] = compare_results(results["device"], results["reference"])
    # the scale of "other noise": the reference device's pictures for seed 0 against seed 1
    ref = pipes["reference"]
    drawn = [r for r in results["reference"] if r.direction == "text_to_image"][:REFERENCE_SEED_QUERIES]
    mads = []
    for r in drawn:
        other = ref.imagine(r.query_text, seed=1)["gxn"].images
        mads += [_mad(p, q) for p, q in zip(r.gxn.imagined.images, other)]
    report["agreement"]["pictures_mad_other_seed"] = round(float(np.mean(mads)), 3) if mads else None
    return report
