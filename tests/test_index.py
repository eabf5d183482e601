"""Gallery search at scale: the joint vectors give s*, the index agrees with the exact scan, the cache is keyed by content."""

import logging

import numpy as np
import pytest
import torch

faiss = pytest.importorskip("faiss")

from lookimagine.models.similarity import combined_similarity  # noqa: E402
from lookimagine.pipeline.look_map import embed  # noqa: E402
from lookimagine.pipeline.search import GallerySearch, IndexConfig, load_or_build_index  # noqa: E402
from lookimagine.tools.search_benchmark import exact_top, recall_at_k, synthetic_vectors  # noqa: E402

SMALL = IndexConfig(exact_below=500, m=16, ef_construction=40, ef_search=64)


def unit(rng, *shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def clustered(n, dim=32, seed=0, queries=50):
    rng = np.random.default_rng(seed)
    centres = unit(rng, 40, dim)
    return synthetic_vectors(n, dim, rng, centres, 1.0), synthetic_vectors(queries, dim, rng, centres, 1.0)


@pytest.mark.parametrize("lam", [0.5, 0.3])
def test_joint_inner_product_is_the_combined_score(lam):
    rng = np.random.default_rng(0)
    v_h, v_l, t_h, t_l = (unit(rng, n, 16) for n in (7, 7, 5, 5))
    expected = combined_similarity(*(torch.from_numpy(x) for x in (v_h, v_l, t_h, t_l)), "cosine", lam).numpy()
    np.testing.assert_allclose(embed(v_h, v_l, lam) @ embed(t_h, t_l, lam).T, expected, atol=1e-6)


def test_exact_search_is_the_full_ranking():
    vectors, queries = clustered(300)
    scores, ids = GallerySearch(vectors).search(queries, 10)
    full = queries @ vectors.T
    np.testing.assert_array_equal(ids, np.argsort(-full, axis=1, kind="stable")[:, :10])
    np.testing.assert_allclose(scores, np.take_along_axis(full, ids, 1), atol=1e-6)
    assert GallerySearch(vectors[:4]).search(queries[:1], 10)[1].shape == (1, 4)  # k capped at N


def test_index_agrees_with_exact_search_and_recalls():
    vectors, queries = clustered(3000)
    search = GallerySearch.of(vectors, SMALL, progress=False)
    assert not search.exact
    scores, ids = search.search(queries, 10)
    assert recall_at_k(ids, exact_top(vectors, queries, 10)) >= 0.95
    # its scores are the exact inner products of the entries it returns, best first
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, vectors[ids]), atol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    np.testing.assert_allclose(search.scores_of(queries[0], ids[0]), scores[0], atol=1e-5)


def test_threshold_switches_between_exact_and_index():
    vectors, _ = clustered(600)
    assert GallerySearch.of(vectors[:499], SMALL, progress=False).exact
    assert not GallerySearch.of(vectors[:500], SMALL, progress=False).exact


def test_index_cache_is_reused_and_rebuilt_when_content_or_parameters_change(tmp_path, caplog):
    vectors, queries = clustered(800)
    path = tmp_path / "gallery.images.faiss"
    _, built = load_or_build_index(vectors, SMALL, path, progress=False)
    assert built and path.is_file() and path.with_name(path.name + ".json").is_file()
    index, built = load_or_build_index(vectors, SMALL, path, progress=False)
    assert not built and index.ntotal == 800

    changed = vectors.copy()
    changed[5] = -changed[5]  # one entry changed: the key changes, the stale index is rebuilt
    with caplog.at_level(logging.WARNING):
        index, built = load_or_build_index(changed, SMALL, path, progress=False)
    assert built and "stale" in caplog.text
    np.testing.assert_array_equal(GallerySearch(changed, index).search(changed[5:6], 1)[1], [[5]])
    assert not load_or_build_index(changed, SMALL, path, progress=False)[1]

    other = IndexConfig(exact_below=500, m=8, ef_construction=40, ef_search=64)
    assert load_or_build_index(changed, other, path, progress=False)[1]  # a parameter of the build changed
    # only ef_search changed: the built graph is the same, so it is reused with the new ef_search
    wider = IndexConfig(exact_below=500, m=8, ef_construction=40, ef_search=200)
    index, built = load_or_build_index(changed, wider, path, progress=False)
    assert not built and faiss.downcast_index(index).hnsw.efSearch == 200


def test_corrupt_index_file_is_rebuilt(tmp_path):
    vectors, _ = clustered(600)
    path = tmp_path / "g.faiss"
    load_or_build_index(vectors, SMALL, path, progress=False)
    path.write_bytes(b"not an index")
    index, built = load_or_build_index(vectors, SMALL, path, progress=False)
    assert built and index.ntotal == 600
