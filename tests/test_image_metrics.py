"""AttnGAN R-precision on hand-made score matrices."""

import numpy as np
import pytest

from lookimagine.evaluation.image_metrics import (
    r_precision,
    r_precision_from_candidate_scores,
    r_precision_truth,
    sample_r_precision_candidates,
)


def test_perfect_constant_and_half():
    n = 120
    owner = np.arange(n)
    assert r_precision(np.eye(n), owner, caption_owner=owner) == 1.0
    assert r_precision(np.ones((n, n)), owner) == 0.0  # ties count against
    scores = np.eye(n)
    scores[n // 2 :] *= -1  # second half: own caption scores lowest
    assert r_precision(scores, owner) == 0.5


def test_other_true_captions_are_never_negatives():
    n_images, per = 30, 5
    owner = np.repeat(np.arange(n_images), per)  # 150 captions
    true = np.arange(n_images) * per  # each image was generated from its first caption
    # an image's own captions all score 1, so drawing one of them as a negative would tie → failure
    scores = (owner[None, :] == np.arange(n_images)[:, None]).astype(float)
    assert r_precision(scores, true, n_candidates=100, caption_owner=owner) == 1.0
    pools = sample_r_precision_candidates(true, owner.size, 100, seed=3, caption_owner=owner)
    assert pools.shape == (n_images, 100)
    np.testing.assert_array_equal(pools[:, 0], true)
    assert np.all(owner[pools[:, 1:]] != np.arange(n_images)[:, None])
    assert all(len(set(row)) == 100 for row in pools.tolist())
    # without the owner map, the other true captions may be drawn and tie
    assert r_precision(scores, true, n_candidates=100) < 1.0


def test_seeded_and_hand_scores():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(50, 200))
    true = rng.permutation(200)[:50]
    a = r_precision(scores, true, seed=5)
    assert a == r_precision(scores, true, seed=np.random.default_rng(5))
    pools = sample_r_precision_candidates(true, 200, seed=5)
    manual = np.mean([scores[i, p[0]] > scores[i, p[1:]].max() for i, p in enumerate(pools)])
    assert a == manual
    assert r_precision_from_candidate_scores(np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 3.0, 1.0]])) == 1 / 3


def test_truth_aware_counts_another_true_caption_as_a_hit():
    n = 150
    owner, true = np.arange(n), np.arange(n)
    truth = np.eye(n, dtype=bool)
    truth[:, 0] = True  # caption 0 is true of every scene ("there is one shape")
    scores = np.zeros((n, n))
    scores[:, 0] = 1.0  # the judge always prefers caption 0
    exact = r_precision(scores, true, caption_owner=owner)
    hit, chance = r_precision_truth(scores, true, truth, caption_owner=owner)
    pools = sample_r_precision_candidates(true, n, 100, seed=0, caption_owner=owner)
    has_0 = (pools == 0).any(axis=1)
    assert exact == 1 / n  # only the scene whose own caption is caption 0
    assert hit == has_0.mean()  # a hit exactly where caption 0 was in the pool (it is true of every scene)
    n_true = 1 + (pools[:, 1:] == 0).any(axis=1)  # its own caption, and caption 0 when drawn as a negative
    assert chance == pytest.approx(n_true.mean() / 100)
    # a constant scorer never hits, and with the identity truth it equals exact R-precision
    assert r_precision_truth(np.ones((n, n)), true, truth, caption_owner=owner)[0] == 0.0
    rng = np.random.default_rng(1)
    noisy = rng.normal(size=(n, n))
    assert r_precision_truth(noisy, true, np.eye(n, dtype=bool), caption_owner=owner)[0] == \
        r_precision(noisy, true, caption_owner=owner)


def test_bad_input_raises():
    with pytest.raises(ValueError):
        r_precision(np.eye(10), np.arange(10))  # fewer than 99 negatives
    with pytest.raises(ValueError):
        sample_r_precision_candidates(np.array([1, 0]), 200, caption_owner=np.zeros(200, int))
    with pytest.raises(ValueError):
        r_precision_from_candidate_scores(np.array([[np.nan, 1.0]]))


def test_same_text_captions_are_never_negatives():
    """Emoji: one name drawn in three art styles is three images with one caption text. A pool holding the
    same name as a 'mismatched' caption would make a perfect image tie with it and miss (ties count against)."""
    from lookimagine.evaluation.retrieval import caption_keys

    names = [f"emoji number {k}" for k in range(60)]
    captions = [n for n in names for _style in range(3)]  # 180 images, one caption each, names repeat by style
    owner = np.arange(len(captions))
    keys = caption_keys(captions)
    # a judge that reads only the name: the image scores its own name 1 in every style, everything else 0
    scores = (keys[None, :] == keys[:, None]).astype(float)
    pools = sample_r_precision_candidates(owner, len(captions), 100, seed=0, caption_owner=owner, caption_text=keys)
    assert np.all(keys[pools[:, 1:]] != keys[pools[:, :1]])  # no pool holds its true caption's text twice
    assert r_precision(scores, owner, caption_owner=owner, caption_text=keys) == 1.0
    assert r_precision_truth(scores, owner, truth=scores > 0, caption_owner=owner, caption_text=keys)[0] == 1.0
    # without the text keys, about a pool in ten (2 of 179 captions × 99 draws) holds the same name and misses
    assert r_precision(scores, owner, caption_owner=owner) < 0.95
    with pytest.raises(ValueError, match="caption_text"):
        sample_r_precision_candidates(owner, len(captions), 100, caption_text=keys[:-1])
