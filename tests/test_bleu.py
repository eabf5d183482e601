"""BLEU-1..4 equal to pycocoevalcap's Bleu (closest reference length) on a fixed corpus."""

import random

import numpy as np
import pytest

from lookimagine.evaluation.bleu import corpus_bleu

pycoco_bleu = pytest.importorskip("pycocoevalcap.bleu.bleu")


def fixed_corpus(seed=99):
    cands = [
        "a man riding a wave on a surfboard",
        "a cat a cat a cat on a couch",  # repeated n-grams are clipped
        "dog",  # shorter than every reference
        "purple elephants juggle quantum spreadsheets",  # no overlap
        "one two three four five",  # closest-length tie (4 vs 6): the shorter wins
        "a red double decker bus on a city street",  # identical to a reference
    ]
    refs = [
        ["a man riding a wave on top of a surfboard", "a surfer rides a large wave in the ocean",
         "a person on a surfboard riding a wave", "a man surfing on a big blue wave", "surfer riding a wave"],
        ["a cat sitting on a couch next to a remote", "a black cat lying on the couch",
         "a cat curled up on a sofa", "the cat is sleeping on a red couch", "a cat on a couch"],
        ["a dog catching a frisbee in a park", "a brown dog jumps for a frisbee",
         "dog playing with a frisbee on the grass", "a dog leaping in the air", "a dog and a frisbee"],
        ["two giraffes standing next to a tree", "giraffes eating leaves from a tall tree",
         "a pair of giraffes in a zoo enclosure", "two giraffes near some trees", "giraffes by a tree"],
        ["one two three four", "one two three four five six", "two three four five six seven eight"],
        ["a red double decker bus on a city street", "a bus driving down a busy road",
         "a double decker bus near a building", "a tall red bus on the street", "a bus in london"],
    ]
    rng = random.Random(seed)
    words = "a the man dog cat on in with red blue runs sits park street ball grass".split()
    for i in range(24):
        refs.append([" ".join(rng.choices(words, k=rng.randint(3, 12))) for _ in range(3 + i % 3)])
        cands.append(" ".join(rng.choices(words, k=rng.randint(1, 12))))
    return cands, refs


def pycoco(cands, refs):
    gts = {i: r for i, r in enumerate(refs)}
    res = {i: [c] for i, c in enumerate(cands)}
    corpus, per_item = pycoco_bleu.Bleu(4).compute_score(gts, res, verbose=0)
    return np.array(corpus), np.array(per_item).T  # (4,), (N, 4)


def test_equals_pycocoevalcap():
    cands, refs = fixed_corpus()
    ours = corpus_bleu(cands, refs)
    corpus, per_item = pycoco(cands, refs)
    np.testing.assert_allclose(ours.corpus, corpus, rtol=0, atol=1e-6)
    np.testing.assert_allclose(ours.per_item, per_item, rtol=0, atol=1e-6)
    assert ours.per_item[5] == pytest.approx([1.0] * 4)
    assert ours.per_item[3, 0] < 1e-6
    assert set(ours.to_dict()) == {"bleu1", "bleu2", "bleu3", "bleu4"}
    assert ours[3] == ours.corpus[3] and list(ours) == ours.corpus.tolist() and len(ours) == 4


def test_subsets_and_token_lists():
    cands, refs = fixed_corpus()
    for lo, hi in ((0, 1), (2, 5), (4, 5), (10, 30)):
        ours = corpus_bleu(cands[lo:hi], refs[lo:hi])
        np.testing.assert_allclose(ours.corpus, pycoco(cands[lo:hi], refs[lo:hi])[0], atol=1e-6)
    as_lists = corpus_bleu([c.split() for c in cands], [[r.split() for r in rs] for rs in refs])
    np.testing.assert_allclose(as_lists.corpus, corpus_bleu(cands, refs).corpus)


def test_bad_input_raises():
    with pytest.raises(ValueError):
        corpus_bleu(["a"], [])
    with pytest.raises(ValueError):
        corpus_bleu(["a"], [[]])
