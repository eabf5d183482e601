"""Retrieval metrics against brute-force loops, VSE++'s code, ties, chunking and 1K folds."""

import numpy as np
import pytest

from lookimagine.evaluation.retrieval import (
    RetrievalScores,
    caption_keys,
    evaluate_retrieval,
    image_to_text,
    image_to_text_chunked,
    recall_at_k_curve,
    rsum,
    text_to_image,
    text_to_image_chunked,
)


def brute_i2t_ranks(sims, owner):
    """Sort each image's captions by (score desc, ground truth last) and take the first ground truth."""
    ranks = []
    for i in range(sims.shape[0]):
        order = sorted(range(sims.shape[1]), key=lambda c: (-sims[i, c], owner[c] == i))
        ranks.append(next(pos for pos, c in enumerate(order) if owner[c] == i) + 1)
    return np.array(ranks)


def brute_t2i_ranks(sims, owner):
    ranks = []
    for c in range(sims.shape[1]):
        order = sorted(range(sims.shape[0]), key=lambda i: (-sims[i, c], i == owner[c]))
        ranks.append(order.index(owner[c]) + 1)
    return np.array(ranks)


def check_scores(scores: RetrievalScores, ranks):
    np.testing.assert_array_equal(scores.ranks, ranks)
    for k, r in ((1, scores.r1), (5, scores.r5), (10, scores.r10)):
        assert r == pytest.approx(100.0 * np.mean(ranks <= k))
    assert scores.median_rank == np.floor(np.median(ranks))
    assert scores.mean_rank == pytest.approx(ranks.mean())


def five_per_image(n):
    return np.repeat(np.arange(n), 5)


CASES = [
    ("5 captions per image, continuous", 12, five_per_image(12), False),
    ("5 captions per image, many ties", 12, five_per_image(12), True),
    ("one caption per image", 15, np.arange(15), False),
    ("uneven shuffled captions", 9, np.random.default_rng(3).permutation(np.r_[np.arange(9), np.arange(9) % 4]), True),
]


@pytest.mark.parametrize("name,n,owner,ties", CASES, ids=[c[0] for c in CASES])
def test_matches_brute_force(name, n, owner, ties):
    rng = np.random.default_rng(len(name))
    sims = rng.integers(0, 4, (n, owner.size)).astype(float) if ties else rng.normal(size=(n, owner.size))
    check_scores(image_to_text(sims, owner), brute_i2t_ranks(sims, owner))
    check_scores(text_to_image(sims, owner), brute_t2i_ranks(sims, owner))


def test_equals_vsepp_without_ties():
    """VSE++ evaluation.i2t/t2i (argsort, 0-based ranks, 5 captions per image) on untied scores."""
    rng = np.random.default_rng(0)
    n = 20
    sims = rng.normal(size=(n, 5 * n)) + 2.0 * (five_per_image(n)[None, :] == np.arange(n)[:, None])
    i2t = np.zeros(n)
    for index in range(n):
        inds = np.argsort(sims[index])[::-1]
        i2t[index] = min(np.where(inds == i)[0][0] for i in range(5 * index, 5 * index + 5))
    t2i = np.zeros(5 * n)
    for c in range(5 * n):
        inds = np.argsort(sims[:, c])[::-1]
        t2i[c] = np.where(inds == c // 5)[0][0]
    for ours, ranks0 in ((image_to_text(sims, five_per_image(n)), i2t), (text_to_image(sims, five_per_image(n)), t2i)):
        assert ours.r1 == pytest.approx(100.0 * len(np.where(ranks0 < 1)[0]) / len(ranks0))
        assert ours.r10 == pytest.approx(100.0 * len(np.where(ranks0 < 10)[0]) / len(ranks0))
        assert ours.median_rank == np.floor(np.median(ranks0)) + 1
        assert ours.mean_rank == pytest.approx(ranks0.mean() + 1)


def test_constant_matrix_is_not_perfect():
    owner = five_per_image(4)
    sims = np.zeros((4, 20))
    i2t, t2i = image_to_text(sims, owner), text_to_image(sims, owner)
    assert i2t.r1 == 0.0 and t2i.r1 == 0.0
    np.testing.assert_array_equal(i2t.ranks, 16)  # behind all 15 negatives
    np.testing.assert_array_equal(t2i.ranks, 4)  # behind the 3 other images


def test_tied_ground_truths_do_not_count_against_each_other():
    # image 0's five captions all tie at the top: a correct caption is at position 1
    sims = np.array([[1.0] * 5 + [0.0] * 5, [0.0] * 5 + [1.0] * 5])
    assert image_to_text(sims, five_per_image(2)).r1 == 100.0


@pytest.mark.parametrize("chunk", [1, 3, 7, 100])
def test_chunked_equals_full(chunk):
    rng = np.random.default_rng(chunk)
    img, cap = rng.normal(size=(11, 8)), rng.normal(size=(55, 8))
    owner = five_per_image(11)
    sims = img @ cap.T
    full_i2t, full_t2i = image_to_text(sims, owner), text_to_image(sims, owner)
    i2t = image_to_text_chunked(lambda rows: img[rows] @ cap.T, owner, 11, chunk_size=chunk)
    t2i = text_to_image_chunked(lambda cols: img @ cap[cols].T, owner, 11, chunk_size=chunk)
    np.testing.assert_array_equal(i2t.ranks, full_i2t.ranks)
    np.testing.assert_array_equal(t2i.ranks, full_t2i.ranks)
    assert i2t == full_i2t and t2i == full_t2i


def test_folds_average_per_fold_metrics():
    rng = np.random.default_rng(1)
    n, fold = 12, 4
    owner = five_per_image(n)
    perm = rng.permutation(owner.size)  # caption order must not matter
    sims = rng.normal(size=(n, owner.size))[:, perm]
    owner = owner[perm]
    out = evaluate_retrieval(sims, owner, fold_size=fold)
    assert len(out["folds"]) == 3
    for f, fold_out in enumerate(out["folds"]):
        cols = np.flatnonzero(owner // fold == f)
        block, local = sims[f * fold : (f + 1) * fold][:, cols], owner[cols] - f * fold
        assert fold_out["image_to_text"] == image_to_text(block, local).to_dict()
        assert fold_out["text_to_image"] == text_to_image(block, local).to_dict()
    for direction in ("image_to_text", "text_to_image"):
        for m in ("r1", "r5", "r10", "median_rank", "mean_rank"):
            assert out[direction][m] == pytest.approx(np.mean([f[direction][m] for f in out["folds"]]))
    recalls = [out[d][k] for d in ("image_to_text", "text_to_image") for k in ("r1", "r5", "r10")]
    assert out["rsum"] == pytest.approx(sum(recalls))
    whole = evaluate_retrieval(sims, owner)
    assert whole["rsum"] == pytest.approx(rsum(image_to_text(sims, owner), text_to_image(sims, owner)))
    assert "folds" not in whole
    with pytest.raises(ValueError):
        evaluate_retrieval(sims, owner, fold_size=5)


def test_to_dict_and_curve():
    sims = np.eye(6) + 0.01 * np.arange(6)[None, :]
    scores = image_to_text(sims, np.arange(6))
    assert set(scores.to_dict()) == {"r1", "r5", "r10", "median_rank", "mean_rank"}
    assert scores.to_dict(include_ranks=True)["ranks"] == [1] * 6
    curve = recall_at_k_curve(np.array([1, 2, 2, 7, 30]), ks=[1, 2, 5, 10, 50])
    np.testing.assert_allclose(curve, [20, 60, 60, 80, 100])


def test_bad_input_raises():
    owner = np.arange(3)
    with pytest.raises(ValueError):
        image_to_text(np.full((3, 3), np.nan), owner)
    with pytest.raises(ValueError):
        text_to_image(np.zeros((3, 3)), np.array([0, 0, 1]))  # image 2 has no caption
    with pytest.raises(ValueError):
        image_to_text(np.zeros((3, 4)), owner)  # shape mismatch


def test_caption_keys_make_identical_texts_ground_truth():
    from lookimagine.evaluation.retrieval import caption_keys, image_to_text, text_to_image

    captions = ["one square", "a red square", "one square", "a blue circle"]
    owner = np.array([0, 0, 1, 1])
    keys = caption_keys(captions)
    assert keys.tolist() == [0, 1, 0, 2] and caption_keys(["A  b", "a b"]).tolist() == [0, 0]
    sims = np.array([[0.1, 0.2, 0.9, 0.0],   # image 0 scores image 1's "one square" highest: same text as its own
                     [0.8, 0.1, 0.3, 0.2]])  # image 1 scores image 0's "one square" highest
    assert image_to_text(sims, owner).ranks.tolist() == [2, 2]
    assert image_to_text(sims, owner, keys).ranks.tolist() == [1, 1]
    # captions 0 and 2 ("one square"): the other image scores higher, but it also has "one square"
    assert text_to_image(sims, owner).ranks.tolist() == [2, 1, 2, 1]
    assert text_to_image(sims, owner, keys).ranks.tolist() == [1, 1, 1, 1]
    # with all-distinct texts the keys change nothing
    distinct = caption_keys(["a", "b", "c", "d"])
    rng = np.random.default_rng(0)
    s = rng.normal(size=(2, 4))
    assert image_to_text(s, owner, distinct).ranks.tolist() == image_to_text(s, owner).ranks.tolist()
    assert text_to_image(s, owner, distinct).ranks.tolist() == text_to_image(s, owner).ranks.tolist()


# ---- truth-based ground truth (the shapes protocol) ---------------------------------------
def _brute_force_ranks(sims, gt):
    """Query by query: 1 + number of false candidates scoring at least the best true one."""
    ranks = []
    for q in range(sims.shape[0]):
        best = max(sims[q, c] for c in range(sims.shape[1]) if gt[q, c])
        ranks.append(1 + sum(1 for c in range(sims.shape[1]) if not gt[q, c] and sims[q, c] >= best))
    return np.array(ranks)


def test_truth_ground_truth_matches_brute_force():
    rng = np.random.default_rng(3)
    n, m = 12, 30
    owner = np.arange(m) % n
    gt = rng.random((n, m)) < 0.2
    gt[owner, np.arange(m)] = True  # every caption is true of its own image at least
    sims = rng.integers(0, 5, size=(n, m)).astype(float)  # many ties
    i2t = image_to_text(sims, owner, ground_truth=gt)
    t2i = text_to_image(sims, owner, ground_truth=gt)
    assert np.array_equal(i2t.ranks, _brute_force_ranks(sims, gt))
    assert np.array_equal(t2i.ranks, _brute_force_ranks(sims.T, gt.T))
    folded = evaluate_retrieval(np.tile(sims, (2, 2)), np.concatenate([owner, owner + n]),
                                fold_size=n, ground_truth=np.block([[gt, np.zeros_like(gt)], [np.zeros_like(gt), gt]]))
    assert folded["rsum"] == pytest.approx(rsum(i2t, t2i))


def test_truth_ground_truth_is_checked():
    owner = np.array([0, 1])
    with pytest.raises(ValueError, match="bool"):
        image_to_text(np.eye(2), owner, ground_truth=np.eye(2))
    with pytest.raises(ValueError, match="nothing true"):
        text_to_image(np.eye(2), owner, ground_truth=np.array([[True, False], [False, False]]))


def test_recall_by_type_restricts_image_queries_to_captions_of_the_type():
    from lookimagine.evaluation.retrieval import recall_by_type

    gt = np.array([[True, False, True, False], [False, True, False, True]])
    types = ["a", "a", "b", "b"]
    sims = np.array([[0.1, 0.9, 0.8, 0.0], [0.9, 0.2, 0.0, 0.5]])
    out = recall_by_type(sims, gt, types)
    # type a: both images rank their true caption second; type b: both first
    assert out["a"]["image_to_text"]["r1"] == 0.0 and out["b"]["image_to_text"]["r1"] == 100.0
    assert out["a"]["n_captions"] == 2 and out["b"]["n_images"] == 2
    assert np.array_equal(_brute_force_ranks(sims.T[[2, 3]], gt.T[[2, 3]]), [1, 1])
    assert out["b"]["text_to_image"]["r1"] == 100.0 and out["a"]["text_to_image"]["r1"] == 0.0


def test_the_oracle_is_perfect_under_the_truth_protocol_only():
    from lookimagine.data.shapes import ShapesDataset
    from lookimagine.evaluation.evaluate_checkpoint import oracle_similarity

    ds = ShapesDataset("val", n=60)
    truth = ds.truth_matrix()
    owner = np.repeat(np.arange(60), 5)
    oracle = oracle_similarity(truth)
    assert evaluate_retrieval(oracle, owner, ground_truth=truth)["rsum"] == pytest.approx(600.0)
    text = evaluate_retrieval(oracle, owner, caption_keys=caption_keys(ds.all_captions()))
    assert text["text_to_image"]["r1"] < 100.0  # "a red circle" is true of scenes captioned otherwise
