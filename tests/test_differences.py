"""Where the models differ: the one producer of ``Difference`` rows, on evaluation JSONs."""

from lookimagine.evaluation import results as rep
from lookimagine.evaluation.differences import Difference, differences_report, read_differences

from .test_results import results_dir  # noqa: F401  (the fixture)


def test_differences_lists_both_directions_and_winners(results_dir):
    test = rep.load_results(results_dir)["emoji"]["test"]
    diff = differences_report(test, seed=0)
    c = diff["counts"]
    # image queries: b has ranks [1,3,2], g [1,1,9] → GXN wins query 1; nobody loses a first place to GXN
    assert c["image_to_text:gxn"] == 1 and c["image_to_text:baseline"] == 0
    # caption queries: b [2,1,1,4], g [1,2,1,1] → GXN wins rows 0 and 3, the baseline row 1
    assert c["text_to_image:gxn"] == 2 and c["text_to_image:baseline"] == 1
    rows = {(r["direction"], r["query_id"]): r for r in diff["rows"]}
    assert rows[("image_to_text", "b")]["winner"] == "gxn"
    assert rows[("text_to_image", "a#1")]["query_text"] == "cap a1" and rows[("text_to_image", "a#1")]["winner"] == "baseline"
    assert rows[("text_to_image", "c#0")]["baseline_rank"] == 4


def test_rows_round_trip_through_the_file(results_dir, tmp_path):  # noqa: F811
    from lookimagine.evaluation.differences import write_differences

    report = differences_report(rep.load_results(results_dir)["emoji"]["test"], seed=0)
    rows = read_differences(write_differences(tmp_path / "differences.json", report))
    assert [r.to_json() for r in rows] == report["rows"]
    assert all(isinstance(r, Difference) and r.winner in ("gxn", "baseline") for r in rows)
    assert read_differences(tmp_path / "missing.json") == []
