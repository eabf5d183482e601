"""Match at scale: exact search below a size threshold, a FAISS HNSW index above it.

For cosine models the ranking score is s* = λ·v_h·t_h + (1 − λ)·v_l·t_l
(``models.similarity.combined_similarity``), which is the inner product of the
joint vectors ``look_map.embed`` makes: [√λ·h, √(1 − λ)·l]. An inner-product
index over those vectors therefore ranks by s* itself, not by a proxy. (The
order-violation similarity is no inner product: such models must scan.)

* Below ``IndexConfig.exact_below`` gallery entries (50,000) the scan is exact
  (one matrix-vector product over the joint vectors).
* From there on an ``IndexHNSWFlat`` with ``METRIC_INNER_PRODUCT`` answers
  (M = 32, efConstruction = 80, efSearch = 128); its scores are exact inner
  products of the stored float32 vectors, only the candidate set is
  approximate. ``python -m lookimagine.tools.search_benchmark`` measures recall@10
  against the exact scan and the time per query.

The index is cached as ``<stem>.faiss`` (``faiss.write_index``; no pickle)
with a JSON sidecar ``<stem>.faiss.json`` holding the content key: the sha256
of the vectors' bytes, their shape, the index parameters and the FAISS
version. An index whose sidecar does not match the vectors it is asked for
(the gallery or its embeddings changed, the parameters changed), or that
cannot be read, is rebuilt and overwritten.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..data.cache import atomic_write_json, read_json

log = logging.getLogger(__name__)

FORMAT = "lookimagine-index-v1"
ADD_CHUNK = 10_000  # vectors per ``index.add`` call, so the build shows progress


@dataclass(frozen=True)
class IndexConfig:
    """When to index, and the HNSW parameters (chosen by ``search_benchmark``; see docs/serving.md)."""

    exact_below: int = 50_000  # galleries smaller than this are scanned exactly
    m: int = 32  # graph degree (neighbours per node on the upper layers; 2·M on the base layer)
    ef_construction: int = 80  # candidate list while building
    ef_search: int = 128  # candidate list while searching

    def index_params(self) -> dict:
        """The parameters that shape a built index (the cache key); ``exact_below`` and ``ef_search`` do not."""
        return {"kind": "hnsw_flat_ip", "m": self.m, "ef_construction": self.ef_construction}


def content_key(vectors: np.ndarray, config: IndexConfig) -> dict:
    """What an index was built from: sha256 of the vectors' bytes, their shape, parameters, FAISS version."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    return {"format": FORMAT, "sha256": hashlib.sha256(vectors.data).hexdigest(), "n": int(vectors.shape[0]),
            "dim": int(vectors.shape[1]), "params": config.index_params(), "faiss": faiss.__version__}


def build_index(vectors: np.ndarray, config: IndexConfig, progress: bool = True, desc: str = "index"):
    """An ``IndexHNSWFlat`` (inner product) over ``vectors`` (N, D) float32, added in chunks with a progress bar."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    index = faiss.IndexHNSWFlat(vectors.shape[1], config.m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = config.ef_construction
    bar = tqdm(total=len(vectors), desc=f"{desc}: building HNSW", unit="vec", disable=not progress,
               file=sys.stderr, leave=False)
    for start in range(0, len(vectors), ADD_CHUNK):
        chunk = vectors[start:start + ADD_CHUNK]
        index.add(chunk)
        bar.update(len(chunk))
    bar.close()
    index.hnsw.efSearch = config.ef_search
    return index


def load_or_build_index(vectors: np.ndarray, config: IndexConfig, path: Path, progress: bool = True,
                        desc: str = "index"):
    """The index at ``path`` when its sidecar matches ``vectors`` and ``config``; otherwise built and saved there.

    Returns (index, built): ``built`` is True when it was (re)built. A cache that
    cannot be written is only a warning.
    """
    import faiss

    path = Path(path)
    sidecar = path.with_name(path.name + ".json")
    key = content_key(vectors, config)
    if path.is_file() and sidecar.is_file():
        try:
            stored = read_json(sidecar)
            if stored.get("key") != key:
                raise ValueError("built from other vectors or parameters")
            index = faiss.read_index(str(path))
            if index.ntotal != key["n"] or index.d != key["dim"]:
                raise ValueError(f"holds {index.ntotal} × {index.d}, expected {key['n']} × {key['dim']}")
            faiss.downcast_index(index).hnsw.efSearch = config.ef_search
            return index, False
        except (OSError, ValueError, RuntimeError) as e:  # faiss raises RuntimeError on a corrupt file
            log.warning("index %s is stale or unusable (%s); rebuilding", path, e)
    start = time.perf_counter()
    index = build_index(vectors, config, progress, desc)
    seconds = time.perf_counter() - start
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        faiss.write_index(index, str(tmp))
        os.replace(tmp, path)  # the index first, then the sidecar that vouches for it
        atomic_write_json(sidecar, {"key": key, "build_seconds": round(seconds, 2)})
    except (OSError, RuntimeError) as e:
        log.warning("cannot write the index cache %s (%s); it will be rebuilt next time", path, e)
    return index, True


class GallerySearch:
    """The k best gallery entries for a query by inner product: exact, or through an HNSW index.

    vectors: (N, D) float32 joint vectors of the gallery entries (``look_map.embed``).
    index:   a FAISS index over the same vectors, or None for the exact scan.
    """

    def __init__(self, vectors: np.ndarray, index=None) -> None:
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.index = index

    @classmethod
    def of(cls, vectors: np.ndarray, config: IndexConfig = IndexConfig(), cache_path: Path | None = None,
           progress: bool = True, desc: str = "index") -> GallerySearch:
        """Exact below ``config.exact_below`` entries; otherwise indexed (cached at ``cache_path`` when given)."""
        if len(vectors) < config.exact_below:
            return cls(vectors)
        if cache_path is None:
            return cls(vectors, build_index(vectors, config, progress, desc))
        return cls(vectors, load_or_build_index(vectors, config, cache_path, progress, desc)[0])

    @property
    def exact(self) -> bool:
        return self.index is None

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """queries (B, D) → scores (B, k) float32 and indices (B, k) int64, best first (k capped at N)."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, len(self))
        if self.index is not None:
            return self.index.search(queries, k)
        scores = queries @ self.vectors.T  # (B, N)
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]  # the k best, unordered
        top_scores = np.take_along_axis(scores, top, 1)
        order = np.argsort(-top_scores, axis=1, kind="stable")
        return np.take_along_axis(top_scores, order, 1), np.take_along_axis(top, order, 1).astype(np.int64)

    def scores_of(self, query: np.ndarray, indices) -> np.ndarray:
        """Exact scores of ``query`` (D,) against the entries ``indices`` (for the ground truth's score)."""
        return self.vectors[np.asarray(list(indices), dtype=np.int64)] @ np.asarray(query, dtype=np.float32)
