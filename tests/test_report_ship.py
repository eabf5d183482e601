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
    # equal differences up to float noise are a tie (the final emoji seeds 1 and 2: 0.94664371772802 each)
    noisy = {1: 386.7469879518072, 2: 381.75559380378655, 3: 390.0, 4: 380.0, 5: 400.0}
    base = {1: 385.80034423407915, 2: 380.80895008605853, 3: 387.4, 4: 380.5, 5: 397.0}
    assert noisy[1] - base[1] != noisy[2] - base[2]
    assert median_seed(noisy, base) == 2  # sorted −0.5 (4), 0.95 (1), 0.95 (2), 2.6 (3), 3.0 (5): the middle
    with pytest.raises(SystemExit, match="both"):
        median_seed({0: 1.0}, {1: 0.0})


def test_ship_writes_the_sampler_chosen_on_val_into_the_shipped_diffusion_gxn(tmp_path):
    from tests.conftest import build_tiny_checkpoint

    from lookimagine.models.checkpoint import load_checkpoint
    from lookimagine.report import ship

    runs_root = tmp_path / "runs"
    for variant, folder in (("gxn-diffusion", "gxn"), ("baseline", "baseline"), ("baseline", "stage1")):
        run = runs_root / "shapes-s2" / folder
        build_tiny_checkpoint(run, variant, 2)
        (run / "run.json").write_text(json.dumps({"best_val_rsum": 100.0}))
    assets = tmp_path / "assets"
    results = tmp_path / "results"
    results.mkdir()
    (results / "verdict.json").write_text(json.dumps({"command": "verdict", "splits": {}}))
    shipped = ship("shapes", runs_root, assets, "test", rule="stage1-val", results=results,
                   sampler={"diffusion_guidance": 4.0, "diffusion_sample_steps": 3})
    assert shipped["gxn"]["seed"] == 2
    said = json.loads((results / "verdict.json").read_text())["shipped"]  # the verdict names the shipped seed
    assert said["seed"] == 2 and said["rule"] == "stage1-val" and said["rule_text"] == SHIP_RULES["stage1-val"]
    assert said["command"] == "test" and said["val_rsum_of_gxn_seeds"]
    model, _, config = load_checkpoint(assets / "checkpoints" / "shapes" / "gxn")
    assert model.diffusion.guidance == 4.0 and model.diffusion.sample_steps == 3
    assert config["model"]["diffusion_guidance"] == 4.0 and config["meta"]["sampler"]["diffusion_sample_steps"] == 3
    _, _, base = load_checkpoint(assets / "checkpoints" / "shapes" / "baseline")
    assert "sampler" not in base["meta"]  # the baseline draws nothing
    card = (assets / "checkpoints" / "shapes" / "gxn" / "README.md").read_text()
    assert SHIP_RULES["stage1-val"] in card  # the card says by which rule its seed shipped


def test_report_sampler_sets_best_of_in_the_shipped_gxn_without_touching_its_weights(tmp_path):
    import shutil

    from tests.conftest import build_tiny_checkpoint

    from lookimagine.models.checkpoint import load_checkpoint
    from lookimagine.report import main

    shipped = tmp_path / "assets" / "checkpoints" / "shapes"
    for variant, folder in (("gxn", "gxn"), ("baseline", "baseline")):
        best = build_tiny_checkpoint(tmp_path / "runs" / folder, variant, 1)
        shutil.copytree(best, shipped / folder)
        (shipped / folder / "README.md").write_text("# card\n")
    weights = (shipped / "gxn" / "model.safetensors").read_bytes()
    args = ["sampler", "--dataset", "shapes", "--assets", str(tmp_path / "assets"), "--best-of", "4",
            "--chosen-on", "val.json"]
    assert main(args) == 0
    assert main(args) == 0  # twice: the card's sampler section is replaced, not repeated
    model, _, config = load_checkpoint(shipped / "gxn")
    assert model.cfg.imagine_best_of == 4 and config["meta"]["sampler"] == {"imagine_best_of": 4}
    assert config["meta"]["sampler_chosen_on"] == "val.json" and "--best-of 4" in config["meta"]["sampler_set_by"]
    assert (shipped / "gxn" / "model.safetensors").read_bytes() == weights
    card = (shipped / "gxn" / "README.md").read_text()
    assert card.count("## Sampler") == 1 and "best of 4 drawings" in card
    with pytest.raises(ValueError, match="imagine_best_of"):
        main(["sampler", "--dataset", "shapes", "--assets", str(tmp_path / "assets"), "--best-of", "0"])
    shutil.rmtree(shipped / "gxn")
    shutil.copytree(shipped / "baseline", shipped / "gxn")  # a "GXN" that draws nothing refuses
    with pytest.raises(SystemExit, match="no text→image branch"):
        main(args)


def test_the_model_card_sentence_compares_the_shipped_seed_with_the_mean_over_seeds():
    from lookimagine.report import seed_against_mean

    stat = lambda values: {"n": len(values), "mean": sum(values) / len(values), "values": values}  # noqa: E731
    verdict = {"splits": {"test": {"seeds": [1, 2, 3], "gxn_minus_baseline": {"i2t_r1": stat([3.0, -1.0, 1.0]),
                                                                              "t2i_r1": stat([0.5, 0.0, -2.0])}}}}
    text = seed_against_mean(verdict, 2)
    assert "-1.0 image→text and +0.0 text→image" in text and "over all 3 seeds the mean is +1.0 and -0.5" in text
    assert seed_against_mean(verdict, 7) == ""  # a seed the verdict lacks: no claim


def test_a_rewritten_verdict_keeps_what_ship_recorded(tmp_path):
    from lookimagine.evaluation.verdict import main

    (tmp_path / "verdict.json").write_text(json.dumps({"shipped": {"seed": 3, "rule": "median-val-diff"}}))
    main([str(tmp_path), "--runs", str(tmp_path / "runs"), "--dataset", "shapes", "--seeds", "1"])
    v = json.loads((tmp_path / "verdict.json").read_text())
    assert v["shipped"] == {"seed": 3, "rule": "median-val-diff"} and v["command"].startswith("python -m")
