"""Measure galleries at scale: the HNSW index against the exact scan, and embedding a big folder.

    python -m lookimagine.tools.search_benchmark [--sizes 100000 1000000] [--dim 256] [--queries 1000] \\
        [--json assets/results/benchmarks/search_index.json]
    python -m lookimagine.tools.search_benchmark --folder /tmp/big-gallery --make-images 20000 \\
        [--json assets/results/benchmarks/folder_embedding.json]

For each size N it prints and records: the index build time, the time per
query (one query at a time, one thread: p50 / p95), recall@10 against the
exact inner-product scan, and the memory (the vectors, the index, this
process's RSS). Each query's wall time and its thread's CPU time are both
kept: on a CPU shared with other work the wall time's tail is mostly waiting.
The exact scan (numpy, its default threads, 50 queries) is timed too.

The vectors: unit vectors drawn around ``--clusters`` random centres (a centre
plus Gaussian noise whose norm is about ``--spread`` times the centre's, then
normalised), since real embeddings are clustered, not uniform on the sphere;
the queries are fresh draws from the same mixture, not gallery entries.
``--spread`` large makes them nearly uniform (the hardest case for any index).

With ``--folder`` it measures ``FolderGallery``'s streamed, sharded embedding
instead (the shipped emoji GXN, one model): ``--make-images N`` first writes N
small synthetic PNGs (coloured shapes, 96 × 96) and a ``captions.jsonl``
there. It reports the listing time, images per second, the resident memory
before and its peak during the embedding (next to what the decoded pixels
would take if held at once), and a resume: the run is interrupted halfway
(an exception from the shard hook) and restarted, and the restart's time and
the equality of its result with the uninterrupted run are recorded.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from ..pipeline.search import GallerySearch, IndexConfig, build_index
from .processes import memory

K = 10


def synthetic_vectors(n: int, dim: int, rng: np.random.Generator, centres: np.ndarray, spread: float,
                      chunk: int = 100_000) -> np.ndarray:
    """(n, dim) float32 unit vectors around ``centres`` (C, dim), drawn in chunks to bound temporary memory."""
    out = np.empty((n, dim), dtype=np.float32)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        x = centres[rng.integers(len(centres), size=m)]
        x = x + rng.standard_normal((m, dim), dtype=np.float32) * (spread / np.sqrt(dim))
        out[s:s + m] = x / np.linalg.norm(x, axis=1, keepdims=True)
    return out


def exact_top(vectors: np.ndarray, queries: np.ndarray, k: int, block: int = 256) -> np.ndarray:
    """(Q, k) indices of the exact top-k by inner product (blocks of queries, all threads)."""
    exact = GallerySearch(vectors)
    return np.concatenate([exact.search(queries[s:s + block], k)[1] for s in range(0, len(queries), block)])


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean fraction of the exact top-k that the index returned in its top-k."""
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def index_bytes(index) -> int:
    """Memory of an ``IndexHNSWFlat``: the stored vectors plus the graph (neighbour lists, offsets, levels)."""
    hnsw = index.hnsw
    return index.ntotal * index.d * 4 + hnsw.neighbors.size() * 4 + hnsw.offsets.size() * 8 + hnsw.levels.size() * 4


def percentile_ms(seconds: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(seconds) * 1000, q)), 3)


def measure(n: int, dim: int, n_queries: int, config: IndexConfig, clusters: int, spread: float, seed: int,
            progress: bool = True) -> dict:
    import faiss

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    vectors = synthetic_vectors(n, dim, rng, centres, spread)
    queries = synthetic_vectors(n_queries, dim, rng, centres, spread)
    truth = exact_top(vectors, queries, K)
    mem_before = memory()

    faiss.omp_set_num_threads(2)  # the build uses the machine's cores
    start = time.perf_counter()
    index = build_index(vectors, config, progress, desc=f"{n:,}")
    build_s = time.perf_counter() - start
    mem_after = memory()

    faiss.omp_set_num_threads(1)  # queries: one at a time, one thread, as the app asks them
    index.search(queries[:20], K)  # warm-up
    times, cpu, found = [], [], []
    for q in queries:
        t, c = time.perf_counter(), time.thread_time()
        _, ids = index.search(q[None], K)
        times.append(time.perf_counter() - t)
        cpu.append(time.thread_time() - c)  # this thread's CPU time: the work, without waits for a busy CPU
        found.append(ids[0])
    exact = GallerySearch(vectors)
    exact_times = []
    for q in queries[:50]:
        t = time.perf_counter()
        exact.search(q[None], K)
        exact_times.append(time.perf_counter() - t)
    return {"n": n, "dim": dim, "queries": n_queries, "k": K, "build_s": round(build_s, 1),
            "query_ms_p50": percentile_ms(times, 50), "query_ms_p95": percentile_ms(times, 95),
            "query_cpu_ms_p50": percentile_ms(cpu, 50), "query_cpu_ms_p95": percentile_ms(cpu, 95),
            "recall_at_10": round(recall_at_k(np.array(found), truth), 4),
            "exact_ms_p50": percentile_ms(exact_times, 50), "exact_ms_p95": percentile_ms(exact_times, 95),
            "vectors_mib": round(vectors.nbytes / 2**20, 1),
            "index_mib": round(index_bytes(index) / 2**20, 1),
            "rss_mib_before_build": mem_before["rss_mib"], "rss_mib_after_build": mem_after["rss_mib"],
            "peak_rss_mib": memory()["peak_rss_mib"]}


def make_folder(root: Path, n: int, seed: int = 0) -> None:
    """``n`` 96 × 96 PNGs of a coloured shape on a coloured ground, with one caption each."""
    from PIL import Image, ImageDraw

    colours = {"red": (220, 40, 40), "green": (40, 170, 60), "blue": (40, 80, 220), "yellow": (230, 200, 40),
               "purple": (140, 60, 180), "grey": (128, 128, 128)}
    names = list(colours)
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        fg, bg = rng.choice(len(names), 2, replace=False)
        shape = ("circle", "square")[i % 2]
        image = Image.new("RGB", (96, 96), colours[names[bg]])
        x, y, r = (int(v) for v in rng.integers((20, 20, 10), (76, 76, 30)))
        box = (x - r, y - r, x + r, y + r)
        (ImageDraw.Draw(image).ellipse if shape == "circle" else ImageDraw.Draw(image).rectangle)(
            box, fill=colours[names[fg]])
        name = f"{i // 1000:03d}/{i:06d}.png"
        (root / name).parent.mkdir(exist_ok=True)
        image.save(root / name)
        rows.append(json.dumps({"image": name, "captions": [f"a {names[fg]} {shape} on {names[bg]}"]}))
    (root / "captions.jsonl").write_text("\n".join(rows) + "\n")


class _Halfway(Exception):
    pass


def measure_folder(root: Path, shard_size: int, progress: bool = True) -> dict:
    """Embed ``root`` with the shipped emoji GXN: uninterrupted, then interrupted halfway and resumed."""
    import tempfile

    import torch

    from ..data.folder import FolderDataset
    from ..models.checkpoint import load_model
    from ..pipeline.folder_gallery import embed_folder
    from ..pipeline.layout import PipelineFolder

    loaded = load_model(PipelineFolder.shipped("emoji").checkpoint("gxn"), "cpu")
    size = loaded.model_config.image_size
    start = time.perf_counter()
    dataset = FolderDataset(root, image_size=size)
    listing_s = time.perf_counter() - start
    n = len(dataset)
    with tempfile.TemporaryDirectory(prefix="lookimagine-shards-") as tmp:
        before = memory()
        start = time.perf_counter()
        whole = embed_folder(loaded, dataset, Path(tmp) / "whole", shard_size=shard_size, progress=progress)
        embed_s = time.perf_counter() - start
        after = memory()
        halfway = len(range(0, n, shard_size)) // 2

        def interrupt(i):
            if i == halfway - 1:
                raise _Halfway

        try:
            embed_folder(loaded, dataset, Path(tmp) / "resumed", shard_size=shard_size, progress=progress,
                         on_shard=interrupt)
        except _Halfway:
            pass
        redone = []
        start = time.perf_counter()
        resumed = embed_folder(loaded, dataset, Path(tmp) / "resumed", shard_size=shard_size, progress=progress,
                               on_shard=redone.append)
        resume_s = time.perf_counter() - start
    return {"folder": str(root), "images": n, "captions": int(whole.t_h.shape[0]), "image_size": size,
            "shard_size": shard_size, "torch_threads": torch.get_num_threads(), "listing_s": round(listing_s, 1),
            "embed_s": round(embed_s, 1), "images_per_s": round(n / embed_s, 1),
            "rss_mib_before": before["rss_mib"], "rss_mib_after": after["rss_mib"],
            "peak_rss_mib": after["peak_rss_mib"],
            "all_pixels_mib": round(n * size * size * 3 / 2**20, 1),
            "embeddings_mib": round(sum(t.nbytes for t in (whole.v_h, whole.v_l, whole.t_h, whole.t_l)) / 2**20, 1),
            "resume": {"shards": len(range(0, n, shard_size)), "interrupted_after": halfway,
                       "redone": len(redone), "seconds": round(resume_s, 1),
                       "identical": bool(torch.equal(whole.v_h, resumed.v_h) and torch.equal(whole.t_h, resumed.t_h))}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.tools.search_benchmark", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    default = IndexConfig()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--spread", type=float, default=1.0, help="noise norm relative to the centre's (default 1)")
    parser.add_argument("--m", type=int, default=default.m)
    parser.add_argument("--ef-construction", type=int, default=default.ef_construction)
    parser.add_argument("--ef-search", type=int, default=default.ef_search)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", dest="json_path", help="also write the figures here")
    parser.add_argument("--folder", type=Path, help="measure embedding this folder gallery instead")
    parser.add_argument("--make-images", type=int, help="first write this many synthetic images into --folder")
    parser.add_argument("--shard-size", type=int, default=2048, help="images per shard for --folder")
    parser.add_argument("--threads", type=int, help="torch threads for --folder (default: torch's choice)")
    args = parser.parse_args(argv)
    command = "python -m lookimagine.tools.search_benchmark " + shlex.join(sys.argv[1:] if argv is None else argv)
    if args.folder is not None:
        if args.threads:
            import torch

            torch.set_num_threads(args.threads)
        if args.make_images:
            make_folder(args.folder, args.make_images, args.seed)
        r = {"command": command, **measure_folder(args.folder, args.shard_size)}
        print(f"folder of {r['images']:,} images ({r['captions']:,} captions): listed in {r['listing_s']} s; "
              f"embedded in {r['embed_s']} s = {r['images_per_s']} images/s ({r['torch_threads']} torch threads); "
              f"RSS {r['rss_mib_before']} MiB before, {r['rss_mib_after']} MiB after, peak {r['peak_rss_mib']} MiB "
              f"(the embeddings themselves: {r['embeddings_mib']} MiB; all decoded pixels at once would be "
              f"{r['all_pixels_mib']} MiB); interrupted after "
              f"{r['resume']['interrupted_after']} of {r['resume']['shards']} shards, the restart redid "
              f"{r['resume']['redone']} in {r['resume']['seconds']} s, identical: {r['resume']['identical']}")
        _write(args.json_path, r)
        return 0
    import faiss

    config = IndexConfig(m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search)
    result = {"command": command, "config": {**config.index_params(), "ef_search": config.ef_search},
              "data": {"clusters": args.clusters, "spread": args.spread, "seed": args.seed},
              "faiss": faiss.__version__, "runs": []}
    for n in args.sizes:
        r = measure(n, args.dim, args.queries, config, args.clusters, args.spread, args.seed)
        result["runs"].append(r)
        print(f"N={n:,} × {args.dim}: build {r['build_s']:.1f} s; query p50 {r['query_ms_p50']:.3f} ms, "
              f"p95 {r['query_ms_p95']:.3f} ms (1 thread; CPU time p50 {r['query_cpu_ms_p50']:.3f}, "
              f"p95 {r['query_cpu_ms_p95']:.3f} ms); recall@10 {r['recall_at_10']:.4f}; exact scan p50 "
              f"{r['exact_ms_p50']:.1f} ms; vectors {r['vectors_mib']} MiB, index ≈ {r['index_mib']} MiB, "
              f"RSS {r['rss_mib_after_build']} MiB (peak {r['peak_rss_mib']} MiB)", flush=True)
    _write(args.json_path, result)
    return 0


def _write(path: str | None, result: dict) -> None:
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
