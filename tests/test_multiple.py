"""Many cells, one verdict (``evaluation/multiple.py``): p-values, Holm, the headline family and what the
README's headline says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lookimagine.evaluation import verdict as vd
from lookimagine.evaluation.multiple import (headline, headline_sentence, holm, load_plan, paired_p,
                                             t_two_sided_p)

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("df, t", sorted(vd._T95.items()))
def test_the_95_percent_t_quantiles_have_p_of_one_in_twenty(df, t):
    assert t_two_sided_p(t, df) == pytest.approx(0.05, abs=3e-4)


def test_p_values_at_known_points():
    assert t_two_sided_p(0.0, 4) == pytest.approx(1.0)
    assert t_two_sided_p(1.0, 1) == pytest.approx(0.5)  # Cauchy: P(|T| ≥ 1) = 1/2
    assert t_two_sided_p(-2.0, 2) == pytest.approx(1 - 2 / 6 ** 0.5)  # df 2: P(|T| < t) = t / sqrt(2 + t²)
    assert t_two_sided_p(4.604, 4) == pytest.approx(0.01, abs=2e-4)
    with pytest.raises(ValueError):
        t_two_sided_p(1.0, 0)


def test_paired_p_from_a_verdict_stat():
    stat = vd.paired([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 3.5, 3.0, 6.0, 6.5])  # differences 1, 1.5, 0, 2, 1.5
    t = stat["mean"] / (stat["std"] / 5 ** 0.5)
    assert paired_p(stat) == pytest.approx(t_two_sided_p(t, 4))
    assert paired_p(vd.mean_ci([1.0])) is None


def test_holm_against_a_hand_computed_example():
    # sorted: 0.005 ×4 = 0.02; 0.01 ×3 = 0.03; 0.03 ×2 = 0.06; 0.04 ×1 = 0.04 → raised to 0.06 (monotone)
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([]) == []


def _verdict(diffs: dict[str, dict[str, list[float]]]) -> dict:
    """A verdict.json-like dict: {split: {metric: per-seed differences}} at equal epochs."""
    return {"splits": {split: {"gxn_minus_baseline": {k: vd.mean_ci(v) for k, v in by.items()}}
                       for split, by in diffs.items()}}


def test_the_family_adjusts_over_every_cell_examined_and_says_only_survivors_are_ahead():
    plan = {"alpha": 0.05, "family": "toy", "splits": {"shapes": ["test", "test-heldout"]},
            "directions": ["i2t_r1", "t2i_r1"], "bases": ["gxn_minus_baseline", "gxn_minus_baseline_wall"],
            "expected_to_move": [{"dataset": "shapes", "split": "test", "basis": "equal epochs", "metric": "t2i_r1"}]}
    strong, weak, none = [5.0, 5.2, 4.9, 5.1, 5.0], [1.0, 3.0, 2.0, 0.5, 2.5], [1.0, -1.0, 0.5, -0.5, 0.0]
    family = headline({"shapes": _verdict({"test": {"i2t_r1": strong, "t2i_r1": weak},
                                           "test-heldout": {"i2t_r1": none, "t2i_r1": none}})}, plan)
    assert family["examined"] == 4 and len(family["missing"]) == 4  # no wall-clock basis was run
    cells = {(c["split"], c["metric"]): c for c in family["cells"]}
    assert cells[("test", "t2i_r1")]["p"] < 0.05  # below α alone …
    assert cells[("test", "t2i_r1")]["holm_p"] == pytest.approx(min(1, 3 * cells[("test", "t2i_r1")]["p"]))
    assert cells[("test", "i2t_r1")]["verdict"] == "ahead"
    assert cells[("test", "t2i_r1")]["verdict"] == "level"  # … but not after correction over 4 cells
    assert cells[("test", "t2i_r1")]["planned"] and not cells[("test", "i2t_r1")]["planned"]
    text = headline_sentence(family)
    assert text.startswith("1 of 4 cells survive") and "ahead in 1 of 4" in text
    assert "Of the 1 cells where GXN was expected to be ahead, 0 are." in text
    summary = {"splits": {"test": {"gxn_minus_baseline": {"i2t_r1": vd.mean_ci(strong),
                                                          "t2i_r1": vd.mean_ci(weak)}}},
               "headline": {**family, "cells": family["cells"]}}
    sentence = vd.verdict_sentence(summary, "shapes")
    assert "image→text R@1 +5.0, ahead" in sentence and "text→image R@1 +1.8, level" in sentence


def test_the_readme_headline_is_the_family_of_the_committed_verdicts():
    from lookimagine.report import MARK_HEADLINE_END, MARK_HEADLINE_START, headline_markdown

    plan = load_plan()
    families = {}
    for recipe in ("final", "staged", "converged"):  # the report's order
        paths = sorted((ROOT / "assets" / "results" / recipe).glob("*/verdict.json"))
        if not paths:
            continue
        verdicts = {p.parent.name: json.loads(p.read_text()) for p in paths}
        families[recipe] = headline(verdicts, plan)
        for p in paths:  # each verdict.json holds its own cells, with holm_p, as the report wrote them
            held = verdicts[p.parent.name]["headline"]["cells"]
            mine = [c for c in families[recipe]["cells"] if c["dataset"] == p.parent.name]
            assert [(c["split"], c["basis"], c["metric"], round(c["holm_p"], 9)) for c in held] == \
                   [(c["split"], c["basis"], c["metric"], round(c["holm_p"], 9)) for c in mine]
    readme = (ROOT / "README.md").read_text()
    block = readme.split(MARK_HEADLINE_START, 1)[1].split(MARK_HEADLINE_END, 1)[0].strip()
    command = re.search(r"generated by `([^`]+)`", block).group(1)
    assert block == headline_markdown(families, command).strip()


def test_the_wall_clock_basis_stated_in_the_docs_is_the_benchmarks():
    from lookimagine.config import PRESETS

    doc = (ROOT / "docs" / "model.md").read_text()
    for ds in ("shapes", "emoji"):
        bench = json.loads((ROOT / "assets" / "results" / "benchmarks" / f"training_speed_{ds}.json").read_text())
        wall = bench["equal_wall_clock"]
        assert PRESETS[f"{ds}-baseline-wall"].train.epochs == round(wall["nchw"]["control_epochs"])
        assert f"**{wall['nhwc']['control_epochs']:.1f}**" in doc and f"{wall['nchw']['control_epochs']:.1f}" in doc
    assert PRESETS["shapes-baseline-wall"].train.channels_last  # the controls' format is NHWC


def test_results_states_the_held_out_cell_with_its_json_p_values():
    v = json.loads((ROOT / "assets" / "results" / "staged" / "shapes" / "verdict.json").read_text())
    cell = next(c for c in v["headline"]["cells"] if (c["split"], c["basis"], c["metric"]) ==
                ("test-heldout", "equal epochs", "t2i_r1"))
    results = (ROOT / "RESULTS.md").read_text()
    assert f"p = {cell['p']:.3f}), has Holm p = {cell['holm_p']:.3f}" in results


def test_the_readme_states_the_shipped_pairs_test_differences_from_their_json():
    readme = (ROOT / "README.md").read_text()
    about = (ROOT / "app.py").read_text().split('ABOUT = """', 1)[1].split('"""', 1)[0]
    pair = ROOT / "assets" / "results" / "pair"
    for folder, label in ((pair / "shapes", "shapes"), (pair / "emoji", "emoji"),
                          (ROOT / "assets" / "results" / "final" / "emoji", "five-seed mean"),
                          (ROOT / "assets" / "results" / "final" / "shapes", "five-seed mean, shapes")):
        d = json.loads((folder / "verdict.json").read_text())["splits"]["test"]["gxn_minus_baseline"]
        stated = f"{d['i2t_r1']['mean']:+.1f} / {d['t2i_r1']['mean']:+.1f}".replace("-", "−")
        assert stated in readme, (label, stated)
        assert stated in about, (label, stated)  # the app's About text states the same figures


def test_the_latent_wall_clock_budget_is_what_the_final_runs_took():
    """config.py's emoji-baseline-wall-latent budget (epochs) lies within GXN's stages 2 and 3 over a control
    epoch, per seed, in the final runs' own records (verdict.json's training health)."""
    from lookimagine.config import PRESETS

    path = ROOT / "assets" / "results" / "final" / "emoji" / "verdict.json"
    if not path.is_file():
        pytest.skip("no final emoji verdict")
    per_seed = json.loads(path.read_text())["training"]["per_seed"]
    ratios = [(r["stage2"]["wall_seconds"] + r["gxn"]["wall_seconds"]) / (r["baseline"]["wall_seconds"] /
              PRESETS["emoji-baseline-ft"].train.epochs) for r in per_seed.values()]
    assert len(ratios) >= 4
    assert min(ratios) <= PRESETS["emoji-baseline-wall-latent"].train.epochs <= max(ratios)
