"""The results report: tables and verdicts computed from evaluation JSONs."""

import json

import numpy as np
import pytest

from lookimagine.evaluation import results as rep


def fake_result(i2t_ranks, t2i_ranks, seed, command="python -m lookimagine.evaluate x"):
    def scores(ranks):
        ranks = np.asarray(ranks)
        return {"r1": float((ranks <= 1).mean() * 100), "r5": float((ranks <= 5).mean() * 100),
                "r10": float((ranks <= 10).mean() * 100), "median_rank": float(np.floor(np.median(ranks))),
                "mean_rank": float(ranks.mean()), "ranks": list(map(int, ranks))}

    i2t, t2i = scores(i2t_ranks), scores(t2i_ranks)
    return {"command": command, "seed": seed, "split": "test", "ids": ["a", "b", "c"],
            "captions": ["cap a0", "cap a1", "cap b0", "cap c0"], "image_of_caption": [0, 0, 1, 2],
            "retrieval": {"image_to_text": i2t, "text_to_image": t2i,
                          "rsum": sum(i2t[k] + t2i[k] for k in ("r1", "r5", "r10"))}}


@pytest.fixture
def results_dir(tmp_path):
    d = tmp_path / "results" / "emoji"
    d.mkdir(parents=True)
    for seed in (0, 1):
        (d / f"emoji-baseline-s{seed}.json").write_text(json.dumps(fake_result([1, 3, 2], [2, 1, 1, 4], seed)))
        (d / f"emoji-gxn-s{seed}.json").write_text(json.dumps(fake_result([1, 1, 9], [1, 2, 1, 1], seed)))
    (d / "notes.json").write_text("{}")  # not a run result: ignored
    return tmp_path / "results"


def test_load_results_groups_by_dataset_split_variant_seed(results_dir):
    results = rep.load_results(results_dir)
    assert set(results) == {"emoji"}
    assert set(results["emoji"]["test"]) == {"baseline", "gxn"}
    assert set(results["emoji"]["test"]["gxn"]) == {0, 1}


def test_verdict_and_per_seed_deltas(results_dir):
    test = rep.load_results(results_dir)["emoji"]["test"]
    v = rep.verdict(test)
    # i2t R@1: baseline 1/3, GXN 2/3 → +33.3 on each seed; t2i: 2/4 vs 3/4 → +25
    assert v["image→text"]["mean_delta"] == pytest.approx(100 / 3)
    assert v["text→image"]["deltas"] == [pytest.approx(25.0)] * 2
    assert v["image→text"]["meets_bar"] and v["text→image"]["ahead_on_every_seed"]
    table = rep.retrieval_table(test)
    assert "no generators (baseline)" in table and "**GXN**" in table and "33.3" in table
    assert "+33.3" in rep.per_seed_table(test)
