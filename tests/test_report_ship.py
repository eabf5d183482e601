"""Which seed ships (``report.choose_seed``): chosen on val by a stated rule, never on test."""

from __future__ import annotations

import json

import pytest

from lookimagine.report import SHIP_RULES, choose_seed, median_seed


def runs(tmp_path, gxn: dict[int, float], stage1: dict[int, float], baseline: dict[int, float] | None = None):
    for stage, rsums in (("gxn", gxn), ("stage1", stage1), ("baseline", baseline or {})):
        for seed, rsum in rsums.items():
            folder = tmp_path / f"shapes-s{seed}" / stage
            folder.mkdir(parents=True)
            (folder / "run.json").write_text(json.dumps({"best_val_rsum": rsum}))
    return tmp_path


def test_stage1_val_ships_the_best_encoders_even_where_gxn_is_best_on_another_seed(tmp_path):
    root = runs(tmp_path, gxn={0: 480.0, 1: 470.0, 2: 460.0}, stage1={0: 400.0, 1: 420.0, 2: 410.0})
    assert choose_seed(root, "shapes", "gxn-val")[0] == 0  # GXN's best seed
    seed, gxn, stage1 = choose_seed(root, "shapes", "stage1-val")
    assert seed == 1 and stage1[1] == 420.0 and gxn == {0: 480.0, 1: 470.0, 2: 460.0}
    assert set(SHIP_RULES) == {"gxn-val", "stage1-val", "median-val-diff"}


def test_a_rule_that_names_a_seed_without_gxn_refuses(tmp_path):
    root = runs(tmp_path, gxn={0: 480.0}, stage1={0: 400.0, 3: 430.0})
    with pytest.raises(SystemExit, match="seed 3"):
        choose_seed(root, "shapes", "stage1-val")


def test_median_val_diff_ships_a_typical_pair_not_gxns_best_seed(tmp_path):
    # GXN's best seed (0) is also its largest gain (+30); the baseline's best seed is 3. Differences on val:
    # s0 +30, s1 +5, s2 −10, s3 0, s4 +12 → sorted −10, 0, +5, +12, +30: the median is seed 1's +5.
    gxn = {0: 500.0, 1: 475.0, 2: 470.0, 3: 490.0, 4: 482.0}
    baseline = {0: 470.0, 1: 470.0, 2: 480.0, 3: 490.0, 4: 470.0}
    root = runs(tmp_path, gxn=gxn, stage1={s: 400.0 for s in gxn}, baseline=baseline)
    assert choose_seed(root, "shapes", "gxn-val")[0] == 0
    assert max(baseline, key=baseline.get) == 3
    assert choose_seed(root, "shapes", "median-val-diff")[0] == 1


def test_median_seed_with_an_even_count_takes_the_lower_middle_and_ties_to_the_smaller_seed():
    assert median_seed({0: 3.0, 1: 1.0, 2: 2.0, 3: 4.0}, {0: 0.0, 1: 0.0, 2: 0.0, 3: 0.0}) == 2
    assert median_seed({5: 1.0, 2: 1.0, 7: 1.0}, {5: 0.0, 2: 0.0, 7: 0.0}) == 5
    with pytest.raises(SystemExit, match="both"):
        median_seed({0: 1.0}, {1: 0.0})
