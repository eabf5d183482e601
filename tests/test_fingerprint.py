"""The shipped pipelines answer as recorded (``lookimagine.tools.fingerprint``): rankings, scores, ground-truth
ranks, captions and imagined pixels. A change that alters what a visitor sees must re-record it on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from lookimagine.tools import fingerprint

RECORDED = Path(__file__).resolve().parents[1] / "assets" / "results" / "benchmarks" / "pipeline_fingerprint.json"


def test_shipped_pipelines_answer_as_recorded(tmp_path, monkeypatch):
    if not RECORDED.is_file():
        pytest.skip("no recorded fingerprint")
    monkeypatch.setenv("LOOKIMAGINE_CACHE", str(tmp_path))
    assert fingerprint.main(["--check", str(RECORDED), "--n", "20"]) == 0


def test_a_difference_is_named():
    a = {"dataset": "shapes", "queries": 1, "answers": [{"query": "a red circle", "gxn": {"caption": None}}]}
    b = {"dataset": "shapes", "queries": 1, "answers": [{"query": "a red circle", "gxn": {"caption": "x"}}]}
    assert fingerprint.first_difference(a, a) is None
    assert fingerprint.first_difference(a, b) == "shapes query 0 ('a red circle'): gxn differs"


def test_pictures_agree_within_the_tolerance_and_nothing_else_does():
    import numpy as np

    picture = np.full((64, 64, 3), 100, dtype=np.uint8)
    thumb = fingerprint.thumbnail(picture)
    assert len(thumb) == 48 and set(thumb) == {100}
    answer = {"ranking": [["a", 0.5]], "ground_truth_rank": 1, "caption": None, "pictures": [thumb]}
    nudged = {**answer, "pictures": [[v + fingerprint.PIXEL_TOLERANCE for v in thumb]]}
    moved = {**answer, "pictures": [[v + fingerprint.PIXEL_TOLERANCE + 1 for v in thumb]]}
    assert fingerprint.same_answer(answer, nudged) and not fingerprint.same_answer(answer, moved)
    assert not fingerprint.same_answer(answer, {**answer, "ranking": [["a", 0.5003]]})
    assert fingerprint.same_answer(answer, {**answer, "ranking": [["a", 0.5001]]})  # one unit of the 4th decimal
    assert not fingerprint.same_answer(answer, {**answer, "ranking": [["b", 0.4]]})
    assert not fingerprint.same_answer(answer, {**answer, "pictures": []})


def test_a_tie_may_break_the_other_way_and_nothing_else_may_move():
    ranking = [["openmoji/kiss", 0.6656], ["twemoji/kiss", 0.6656], ["heart", 0.6481]]
    assert fingerprint.same_ranking(ranking, [ranking[1], ranking[0], ranking[2]])  # a tie, broken the other way
    assert not fingerprint.same_ranking(ranking, [ranking[0], ranking[2], ranking[1]])  # 0.6481 is no tie
    assert not fingerprint.same_ranking(ranking, ranking[:2])
    assert not fingerprint.same_ranking(ranking, [["openmoji/kiss", 0.6656], ["other", 0.6655], ["heart", 0.6481]])

