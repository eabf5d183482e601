"""``top_k.rank_distinct``: an image query lists each caption text once, against brute force."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lookimagine.pipeline.top_k import rank, rank_distinct


def brute_force(scores, truth, k, groups):
    """Each text at its best row; rank = 1 + distinct non-truth texts scoring at least the best true text."""
    best = {}
    for i, (s, g) in enumerate(zip(scores, groups)):
        if g not in best or s > scores[best[g]]:
            best[g] = i
    truth_groups = {groups[t] for t in truth}
    listed = sorted(best.values(), key=lambda i: (-scores[i], groups[i] in truth_groups))[:k]
    if not truth:
        return listed, None
    top = max(scores[best[g]] for g in truth_groups)
    return listed, 1 + sum(scores[i] >= top for g, i in best.items() if g not in truth_groups)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 5)), min_size=1, max_size=25),
       st.integers(1, 8), st.data())
def test_rank_distinct_matches_brute_force(rows, k, data):
    scores = np.array([s / 4 for s, _ in rows])  # few values: many ties
    groups = np.array([g for _, g in rows])
    truth = set(data.draw(st.sets(st.integers(0, len(rows) - 1), max_size=3)))
    order, gt_rank = rank_distinct(scores, truth, k, groups)
    expected_order, expected_rank = brute_force(scores, truth, k, groups)
    assert gt_rank == expected_rank
    assert len({groups[i] for i in order}) == len(order)  # each text once
    assert [scores[i] for i in order] == [scores[i] for i in expected_order]  # the same scores, ties aside


def test_distinct_groups_rank_like_rank():
    scores = np.array([0.3, 0.9, 0.5, 0.1])
    assert rank_distinct(scores, {2}, 3, np.arange(4)) == rank(scores, {2}, 3)


def test_a_repeated_wrong_text_counts_once():
    # "full moon" drawn in three styles outranks the true caption: it is one text, so the truth is second
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    groups = np.array([0, 0, 0, 1])
    assert rank_distinct(scores, {3}, 5, groups) == ([0, 3], 2)
