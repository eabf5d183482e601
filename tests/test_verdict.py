"""The verdict's statistics: paired differences over seeds and their 95% t-intervals."""

import json

import pytest

from lookimagine.evaluation.verdict import load_results, mean_ci, paired, verdict


def test_mean_ci_is_the_student_t_interval():
    out = mean_ci([1.0, 2.0, 3.0, 4.0, 5.0])
    assert out["mean"] == 3.0 and out["std"] == pytest.approx(1.5811, abs=1e-4)
    half = 2.776 * 1.5811 / 5 ** 0.5  # t(0.975, 4 dof)
    assert out["ci95"] == pytest.approx([3.0 - half, 3.0 + half], abs=1e-3)
    assert mean_ci([7.0])["ci95"] is None
    with pytest.raises(ValueError):
        mean_ci([])


def test_paired_difference_removes_what_the_seeds_share():
    baseline = [40.0, 50.0, 60.0]  # a large seed spread ...
    gxn = [41.0, 51.2, 60.8]  # ... and a small, consistent gain
    d = paired(baseline, gxn)
    assert d["mean"] == pytest.approx(1.0) and d["ci95"][0] > 0  # the pairing resolves it
    assert mean_ci(gxn)["ci95"][0] < mean_ci(baseline)["ci95"][1]  # unpaired intervals overlap
    with pytest.raises(ValueError):
        paired([1.0], [1.0, 2.0])


def _result(i2t, t2i):
    return {"retrieval": {"image_to_text": {"r1": i2t}, "text_to_image": {"r1": t2i}, "rsum": i2t + t2i},
            "protocol": "text"}


def test_verdict_pairs_by_seed_and_split(tmp_path):
    for seed, (b, g) in enumerate([(10, 12), (20, 21), (30, 33)]):
        for variant, v in (("baseline", b), ("gxn", g)):
            (tmp_path / f"{variant}-s{seed}-test.json").write_text(json.dumps(_result(v, v)))
    (tmp_path / "gxn-s9-test.json").write_text(json.dumps(_result(0, 0)))  # no baseline of seed 9: left out
    out = verdict(load_results(tmp_path))["test"]
    assert out["seeds"] == [0, 1, 2]
    assert out["gxn_minus_baseline"]["i2t_r1"]["values"] == [2.0, 1.0, 3.0]
    assert out["baseline"]["rsum"]["mean"] == pytest.approx(40.0)


def test_the_equal_wall_clock_control_is_paired_over_the_same_seeds(tmp_path):
    from lookimagine.evaluation.verdict import markdown

    for seed, (b, g, w) in enumerate([(10, 12, 15), (20, 21, 23), (30, 33, 35)]):
        for variant, v in (("baseline", b), ("gxn", g), ("baseline-wall", w)):
            (tmp_path / f"{variant}-s{seed}-test.json").write_text(json.dumps(_result(v, v)))
    out = verdict(load_results(tmp_path))["test"]
    assert out["gxn_minus_baseline"]["t2i_r1"]["values"] == [2.0, 1.0, 3.0]
    assert out["gxn_minus_baseline_wall"]["t2i_r1"]["values"] == [-3.0, -2.0, -2.0]
    assert out["baseline_wall"]["i2t_r1"]["mean"] == pytest.approx(73 / 3)
    summary = {"splits": {"test": out}, "training": {"per_seed": {}, "total_wall_seconds": {}}}
    text = markdown(summary, "shapes")
    assert "**At equal wall-clock**" in text and "text→image R@1 -2.3, behind" in text
    assert "| test | **GXN − baseline, equal wall-clock** | -2.3 [" in text
    # a seed without its equal-wall-clock control: no wall-clock comparison at all, rather than a partial one
    (tmp_path / "baseline-wall-s2-test.json").unlink()
    assert "gxn_minus_baseline_wall" not in verdict(load_results(tmp_path))["test"]


def test_training_summary_states_the_wall_clock_basis(tmp_path):
    """The verdict records, per seed, GXN's stages 2 and 3 against the equal-wall-clock control's time and epochs."""
    import json

    from lookimagine.evaluation.verdict import training_summary

    def run(stage: str, seconds: float, epochs_run: int, budget: int) -> None:
        folder = tmp_path / "emoji-s1" / stage
        folder.mkdir(parents=True)
        history = [{"epoch": e + 1, "val_rsum": 100.0 + e} for e in range(epochs_run)]
        folder.joinpath("run.json").write_text(json.dumps({
            "wall_seconds": seconds, "samples_per_second": 1.0, "best_epoch": epochs_run,
            "best_val_rsum": 100.0 + epochs_run - 1, "train": {"epochs": budget}, "history": history}))

    run("stage1", 400.0, 40, 40)
    run("stage2", 2000.0, 20, 20)
    run("gxn", 100.0, 3, 3)
    run("baseline-wall", 90.0, 9, 200)  # early-stopped after 9 of up to 200 epochs
    basis = training_summary(tmp_path, "emoji", [1, 2])["wall_clock_basis"]["per_seed"]
    assert basis == {1: {"gxn_stages_2_3_seconds": 2100.0, "control_seconds": 90.0, "control_epochs_budget": 200,
                         "control_epochs_run": 9}}  # seed 2 never ran: left out
