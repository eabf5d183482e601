"""Where the models differ: the one producer of ``Difference`` rows, on evaluation JSONs."""

import numpy as np
import pytest

from lookimagine.evaluation.differences import Difference, differences_report, read_differences


def fake_result(i2t_ranks, t2i_ranks, seed):
    """An evaluation JSON (as ``python -m lookimagine.evaluate`` writes it) with these ground-truth ranks."""
    def scores(ranks):
        ranks = np.asarray(ranks)
        return {"r1": float((ranks <= 1).mean() * 100), "r5": float((ranks <= 5).mean() * 100),
                "r10": float((ranks <= 10).mean() * 100), "median_rank": float(np.floor(np.median(ranks))),
                "mean_rank": float(ranks.mean()), "ranks": list(map(int, ranks))}

    i2t, t2i = scores(i2t_ranks), scores(t2i_ranks)
    return {"command": "python -m lookimagine.evaluate x", "seed": seed, "split": "test", "ids": ["a", "b", "c"],
            "captions": ["cap a0", "cap a1", "cap b0", "cap c0"], "image_of_caption": [0, 0, 1, 2],
            "retrieval": {"image_to_text": i2t, "text_to_image": t2i,
                          "rsum": sum(i2t[k] + t2i[k] for k in ("r1", "r5", "r10"))}}


@pytest.fixture
def test_runs():
    """{variant: {seed: result}} of one dataset's test split, two seeds each."""
    return {"baseline": {s: fake_result([1, 3, 2], [2, 1, 1, 4], s) for s in (0, 1)},
            "gxn": {s: fake_result([1, 1, 9], [1, 2, 1, 1], s) for s in (0, 1)}}


def test_differences_lists_both_directions_and_winners(test_runs):
    diff = differences_report(test_runs, seed=0)
    c = diff["counts"]
    # image queries: b has ranks [1,3,2], g [1,1,9] → GXN wins query 1; nobody loses a first place to GXN
    assert c["image_to_text:gxn"] == 1 and c["image_to_text:baseline"] == 0
    # caption queries: b [2,1,1,4], g [1,2,1,1] → GXN wins rows 0 and 3, the baseline row 1
    assert c["text_to_image:gxn"] == 2 and c["text_to_image:baseline"] == 1
    rows = {(r["direction"], r["query_id"]): r for r in diff["rows"]}
    assert rows[("image_to_text", "b")]["winner"] == "gxn"
    assert rows[("text_to_image", "a#1")]["query_text"] == "cap a1" and rows[("text_to_image", "a#1")]["winner"] == "baseline"
    assert rows[("text_to_image", "c#0")]["baseline_rank"] == 4


def test_rows_round_trip_through_the_file(test_runs, tmp_path):
    from lookimagine.evaluation.differences import write_differences

    report = differences_report(test_runs, seed=0)
    rows = read_differences(write_differences(tmp_path / "differences.json", report))
    assert [r.to_json() for r in rows] == report["rows"]
    assert all(isinstance(r, Difference) and r.winner in ("gxn", "baseline") for r in rows)
    assert read_differences(tmp_path / "missing.json") == []
