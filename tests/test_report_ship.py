"""Which seed ships (``report.choose_seed``): chosen on val by a stated rule, never on test."""

from __future__ import annotations

import json

import pytest

from lookimagine.report import SHIP_RULES, choose_seed


def runs(tmp_path, gxn: dict[int, float], stage1: dict[int, float]):
    for stage, rsums in (("gxn", gxn), ("stage1", stage1)):
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
    assert set(SHIP_RULES) == {"gxn-val", "stage1-val"}


def test_a_rule_that_names_a_seed_without_gxn_refuses(tmp_path):
    root = runs(tmp_path, gxn={0: 480.0}, stage1={0: 400.0, 3: 430.0})
    with pytest.raises(SystemExit, match="seed 3"):
        choose_seed(root, "shapes", "stage1-val")
