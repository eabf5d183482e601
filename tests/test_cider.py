"""CIDEr-D: equal to pycocoevalcap's Cider, to a loop port with training df, batch == per item."""

import math
import random
from collections import defaultdict

import numpy as np
import pytest

from lookimagine.evaluation.cider import CiderD, corpus_cider, simple_tokenize

pycoco_cider = pytest.importorskip("pycocoevalcap.cider.cider")

HAND_WRITTEN = [
    (  # close paraphrase
        "a man riding a wave on a surfboard",
        ["a man riding a wave on top of a surfboard", "a surfer rides a large wave in the ocean",
         "a person on a surfboard riding a wave", "a man surfing on a big blue wave",
         "surfer in a wetsuit riding a wave"],
    ),
    (  # repeated words
        "a cat a cat a cat on a couch",
        ["a cat sitting on a couch next to a remote", "a black cat lying on the couch",
         "a cat curled up on a sofa", "the cat is sleeping on a red couch", "a cat on a couch"],
    ),
    ("dog", ["a dog catching a frisbee in a park", "a brown dog jumps for a frisbee",  # one word
             "dog playing with a frisbee on the grass", "a dog leaping in the air", "a dog and a frisbee"]),
    (  # no overlap at all, with a repeated unseen word
        "purple elephants juggle quantum quantum spreadsheets",
        ["two giraffes standing next to a tree", "giraffes eating leaves from a tall tree",
         "a pair of giraffes in a zoo enclosure", "two giraffes near some trees", "giraffes by a tree"],
    ),
    ("", ["a plate of food with broccoli", "a white plate with rice and broccoli",  # empty output
          "broccoli and rice on a plate", "a healthy meal on a plate", "food on a plate"]),
    (  # identical to one reference
        "a red double decker bus on a city street",
        ["a red double decker bus on a city street", "a bus driving down a busy road",
         "a double decker bus near a building", "a tall red bus on the street", "a bus in london"],
    ),
]


def fixed_corpus(n_generated=24, seed=1234):
    """6 hand-written items + generated ones: 30 items, 3–5 references each."""
    rng = random.Random(seed)
    subj = ["a man", "a woman", "a dog", "two cats", "a child", "the bird", "a large dog", "a red bus"]
    verb = ["is sitting on", "runs across", "stands next to", "is looking at", "plays with", "sits on"]
    obj = ["a bench", "the grass", "a wooden table", "a ball", "the street", "a red chair", "the beach"]
    tail = ["", " in the sun", " near a tree", " with a frisbee", " at night", " in a park in a park"]

    def sentence():
        return f"{rng.choice(subj)} {rng.choice(verb)} {rng.choice(obj)}{rng.choice(tail)}"

    cands = [c for c, _ in HAND_WRITTEN]
    refs = [list(r) for _, r in HAND_WRITTEN]
    for i in range(n_generated):
        refs.append([sentence() for _ in range(3 + i % 3)])
        cands.append(rng.choice([sentence(), refs[-1][0].split(" ", 2)[-1], rng.choice(subj)]))
    return cands, refs


def pycoco(cands, refs):
    gts = {i: r for i, r in enumerate(refs)}
    res = {i: [c] for i, c in enumerate(cands)}
    mean, per_item = pycoco_cider.Cider().compute_score(gts, res)
    return mean, np.asarray(per_item)


def loop_cider_d(cand, refs, df, n_docs, n=4, sigma=6.0):
    """pycocoevalcap's cider_scorer loops with df / |D| passed in (port for training-df checks)."""
    ref_len = math.log(float(n_docs))

    def counts(s):
        w = s.split()
        c = defaultdict(int)
        for k in range(1, n + 1):
            for i in range(len(w) - k + 1):
                c[tuple(w[i : i + k])] += 1
        return c

    def vec(cnts):
        v, norm, length = [defaultdict(float) for _ in range(n)], [0.0] * n, 0
        for g, tf in cnts.items():
            v[len(g) - 1][g] = tf * (ref_len - math.log(max(1.0, df.get(g, 0.0))))
            norm[len(g) - 1] += v[len(g) - 1][g] ** 2
            length += tf if len(g) == 2 else 0
        return v, [math.sqrt(x) for x in norm], length

    vh, nh, lh = vec(counts(cand))
    total = np.zeros(n)
    for r in refs:
        vr, nr, lr = vec(counts(r))
        for k in range(n):
            val = sum(min(vh[k][g], vr[k][g]) * vr[k][g] for g in vh[k])
            if nh[k] != 0 and nr[k] != 0:
                val /= nh[k] * nr[k]
            total[k] += val * math.exp(-((lh - lr) ** 2) / (2 * sigma**2))
    return total.mean() / len(refs) * 10.0


def document_frequency(refs, n=4):
    df = defaultdict(float)
    for item in refs:
        grams = {tuple(w[i : i + k]) for s in item for w in [s.split()] for k in range(1, n + 1)
                 for i in range(len(w) - k + 1)}
        for g in grams:
            df[g] += 1
    return df


def test_corpus_cider_equals_pycocoevalcap():
    cands, refs = fixed_corpus()
    assert len(cands) == 30
    mean, per_item = corpus_cider(cands, refs)
    ref_mean, ref_per_item = pycoco(cands, refs)
    np.testing.assert_allclose(per_item, ref_per_item, rtol=0, atol=1e-6)
    assert mean == pytest.approx(ref_mean, abs=1e-6)
    assert per_item[3] == 0.0 and per_item[4] == 0.0  # no overlap, empty candidate
    assert per_item[0] > 1.0 and per_item[5] > 1.0  # paraphrase and copied reference score well


def test_loop_port_equals_pycocoevalcap():
    """The reference port used below is itself faithful when df comes from the evaluated refs."""
    cands, refs = fixed_corpus()
    df = document_frequency(refs)
    port = [loop_cider_d(c, r, df, len(refs)) for c, r in zip(cands, refs)]
    np.testing.assert_allclose(port, pycoco(cands, refs)[1], atol=1e-9)


def test_training_df_matches_loop_port():
    cands, refs = fixed_corpus()
    train_refs = refs + fixed_corpus(n_generated=40, seed=7)[1][6:]  # df from a bigger "training" corpus
    scorer = CiderD(train_refs)
    df = document_frequency(train_refs)
    expected = [loop_cider_d(c, r, df, len(train_refs)) for c, r in zip(cands, refs)]
    np.testing.assert_allclose(scorer.score(cands, np.arange(len(cands))), expected, atol=1e-9)


def test_batch_equals_per_item():
    cands, refs = fixed_corpus()
    scorer = CiderD(refs)
    rng = np.random.default_rng(0)
    index = rng.integers(0, len(refs), 64)  # repeated items, candidates scored against other items' refs
    batch_cands = [cands[j] for j in rng.integers(0, len(cands), 64)]
    batch = scorer.score(batch_cands, index)
    single = np.array([scorer.score([c], [i])[0] for c, i in zip(batch_cands, index)])
    np.testing.assert_allclose(batch, single, atol=1e-12)
    token_lists = scorer.score([c.split() for c in batch_cands], index)
    np.testing.assert_allclose(token_lists, batch, atol=1e-12)


def test_score_edge_cases():
    scorer = CiderD([["a b c d"], ["e f"]])
    assert scorer.score([], []).shape == (0,)
    np.testing.assert_array_equal(scorer.score(["", "zz zz"], [0, 1]), [0.0, 0.0])
    with pytest.raises(IndexError):
        scorer.score(["a"], [2])
    with pytest.raises(ValueError):
        scorer.score(["a", "b"], [0])
    with pytest.raises(ValueError):
        CiderD([["a"], []])


def test_simple_tokenize():
    assert simple_tokenize("A man's dog, running (fast)!") == "a man 's dog running fast"
    assert simple_tokenize("Two black-and-white cats don't sleep.") == "two black-and-white cats do n't sleep"
    assert simple_tokenize('He said "hi" -- at 3.5 p.m.; ok?') == "he said hi at 3.5 p.m ok"
