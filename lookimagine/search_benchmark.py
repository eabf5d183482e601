"""Measure gallery search at scale on synthetic vectors: the HNSW index against the exact scan.

    python -m lookimagine.search_benchmark [--sizes 100000 1000000] [--dim 256] [--queries 1000] \\
        [--json assets/results/benchmarks/search.json]

For each size N it prints and records: the index build time, the time per
query (one query at a time, one thread: p50 / p95), recall@10 against the
exact inner-product scan, and the memory (the vectors, the index, this
process's RSS). The exact scan is timed too (one thread, 50 queries).

The vectors: unit vectors drawn around ``--clusters`` random centres (a centre
plus Gaussian noise whose norm is about ``--spread`` times the centre's, then
normalised), since real embeddings are clustered, not uniform on the sphere;
the queries are fresh draws from the same mixture, not gallery entries.
``--spread`` large makes them nearly uniform (the hardest case for any index).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from .benchmark import memory
from .pipeline.search import GallerySearch, IndexConfig, build_index

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
    times, found = [], []
    for q in queries:
        t = time.perf_counter()
        _, ids = index.search(q[None], K)
        times.append(time.perf_counter() - t)
        found.append(ids[0])
    exact = GallerySearch(vectors)
    exact_times = []
    for q in queries[:50]:
        t = time.perf_counter()
        exact.search(q[None], K)
        exact_times.append(time.perf_counter() - t)
    return {"n": n, "dim": dim, "queries": n_queries, "k": K, "build_s": round(build_s, 1),
            "query_ms_p50": percentile_ms(times, 50), "query_ms_p95": percentile_ms(times, 95),
            "recall_at_10": round(recall_at_k(np.array(found), truth), 4),
            "exact_ms_p50": percentile_ms(exact_times, 50), "exact_ms_p95": percentile_ms(exact_times, 95),
            "vectors_mib": round(vectors.nbytes / 2**20, 1),
            "index_mib": round(index_bytes(index) / 2**20, 1),
            "rss_mib_before_build": mem_before["rss_mib"], "rss_mib_after_build": mem_after["rss_mib"],
            "peak_rss_mib": memory()["peak_rss_mib"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lookimagine.search_benchmark", description=__doc__,
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
    args = parser.parse_args(argv)
    import faiss

    config = IndexConfig(m=args.m, ef_construction=args.ef_construction, ef_search=args.ef_search)
    command = "python -m lookimagine.search_benchmark " + shlex.join(sys.argv[1:] if argv is None else argv)
    result = {"command": command, "config": {**config.index_params(), "ef_search": config.ef_search},
              "data": {"clusters": args.clusters, "spread": args.spread, "seed": args.seed},
              "faiss": faiss.__version__, "runs": []}
    for n in args.sizes:
        r = measure(n, args.dim, args.queries, config, args.clusters, args.spread, args.seed)
        result["runs"].append(r)
        print(f"N={n:,} × {args.dim}: build {r['build_s']:.1f} s; query p50 {r['query_ms_p50']:.3f} ms, "
              f"p95 {r['query_ms_p95']:.3f} ms (1 thread); recall@10 {r['recall_at_10']:.4f}; exact scan p50 "
              f"{r['exact_ms_p50']:.1f} ms; vectors {r['vectors_mib']} MiB, index ≈ {r['index_mib']} MiB, "
              f"RSS {r['rss_mib_after_build']} MiB (peak {r['peak_rss_mib']} MiB)", flush=True)
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(result, indent=1) + "\n")
        print(f"wrote {args.json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
