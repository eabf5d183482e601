"""The data-size curve (``tools/data_size.py``): pairing by seed, dropping incomplete seeds, Holm over the curve's
cells, the RESULTS block and the figure, on hand-made evaluation JSONs."""

from __future__ import annotations

import json

import pytest

from lookimagine.evaluation.multiple import holm, paired_p
from lookimagine.tools import data_size


def _result(i2t: float, t2i: float) -> dict:
    return {"retrieval": {"image_to_text": {"r1": i2t}, "text_to_image": {"r1": t2i}, "rsum": i2t + t2i}}


def _write(folder, variant: str, size: str, seed: int, i2t: float, t2i: float) -> None:
    (folder / f"{variant}-n{size}-s{seed}-test.json").write_text(json.dumps(_result(i2t, t2i)))


@pytest.fixture
def results(tmp_path):
    folder = tmp_path / "shapes"
    folder.mkdir()
    # 1,000 scenes: GXN ahead by 2, 3, 4 on image→text at equal epochs; fresh: level
    for seed, gain in zip((1, 2, 3), (2.0, 3.0, 4.0)):
        _write(folder, "baseline", "1000", seed, 50.0, 40.0)
        _write(folder, "baseline-wall", "1000", seed, 51.0, 41.0)
        _write(folder, "gxn", "1000", seed, 50.0 + gain, 40.0 - gain / 2)
        _write(folder, "baseline", "fresh", seed, 60.0 + seed, 50.0)
        _write(folder, "baseline-wall", "fresh", seed, 60.0 + seed, 50.0)
        _write(folder, "gxn", "fresh", seed, 60.0 + seed, 50.0 + (seed - 2))
    _write(folder, "baseline", "4000", 1, 55.0, 45.0)  # no GXN and no control: not a point of the curve
    (folder / "verdict.json").write_text("{}")  # other files are ignored
    return folder


def test_curve_pairs_by_seed_and_adjusts_over_all_cells(results):
    summary = data_size.curve(data_size.load(results))
    assert list(summary["sizes"]) == ["1000", "fresh"]  # sizes in SIZES order; 4000 lacks its variants
    small = summary["sizes"]["1000"]
    assert small["seeds"] == [1, 2, 3]
    eq = small["gxn_minus_baseline"]["i2t_r1"]
    assert eq["values"] == [2.0, 3.0, 4.0] and eq["mean"] == pytest.approx(3.0)
    wall = small["gxn_minus_baseline_wall"]["t2i_r1"]
    assert wall["values"] == pytest.approx([-2.0, -2.5, -3.0])
    # Holm over every cell with a p-value (the zero-spread fresh image→text cells have p = 1 and count too)
    cells = [summary["sizes"][s][b][d] for s in ("1000", "fresh") for b in data_size.BASES
             for d in data_size.DIRECTIONS]
    assert summary["examined"] == len(cells) == 8
    assert [c["holm_p"] for c in cells] == pytest.approx(holm([paired_p(c) for c in cells]))
    assert all(c["holm_p"] >= c["p"] for c in cells)
    assert summary["survive"] == sum(c["holm_p"] < 0.05 for c in cells)


def test_markdown_and_figure(results, tmp_path):
    summary = {"command": "python -m lookimagine.tools.data_size", **data_size.curve(data_size.load(results))}
    text = data_size.markdown(summary)
    assert "| 1,000 fixed | 3 | image→text R@1 | 50.0 | 53.0 | 51.0 | +3.0 [" in text
    assert f"{summary['survive']} of 8 cells survive Holm correction" in text
    png = data_size.figure(summary, tmp_path / "curve.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_writes_json_and_splices_results_md(results, tmp_path):
    md = tmp_path / "RESULTS.md"
    md.write_text(f"before\n{data_size.MARK_START}\nold\n{data_size.MARK_END}\nafter\n")
    out = tmp_path / "shapes.json"
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"expected_to_move": [
        {"size": "1000", "basis": "equal epochs", "metric": "i2t_r1"},
        {"size": "4000", "basis": "equal wall-clock", "metric": "t2i_r1"}]}))
    data_size.main(["--results", str(results), "--runs", str(tmp_path / "none"), "--out", str(out),
                    "--figure", str(tmp_path / "f.png"), "--results-md", str(md), "--plan", str(plan)])
    saved = json.loads(out.read_text())
    assert saved["command"].startswith("python -m lookimagine.tools.data_size --results")
    assert "old" not in md.read_text() and "| fresh" not in md.read_text()
    assert "10,000 fresh / epoch" in md.read_text() and md.read_text().endswith("after\n")
    assert "1,000 fixed, equal epochs, image→text R@1: +3.0 [" in md.read_text()
    assert "4,000 fixed, equal wall-clock, text→image R@1: not run" in md.read_text()  # planned, never run


def test_results_md_block_and_readme_sentence_are_the_shipped_curve():
    """RESULTS.md's data-size block is markdown(shapes.json), and the README's sentence quotes its figures."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    summary = json.loads((root / "assets" / "results" / "data_size" / "shapes.json").read_text())
    assert summary["command"].startswith("python -m lookimagine.tools.data_size")
    block = (root / "RESULTS.md").read_text().split(data_size.MARK_START, 1)[1].split(data_size.MARK_END, 1)[0]
    assert block.strip() == data_size.markdown(summary).strip()
    assert (root / summary["figure"]).is_file()
    readme = " ".join((root / "README.md").read_text().split())
    fmt = lambda x: f"{x:+.1f}".replace("-", "−").replace("+", "")  # noqa: E731
    wall = {s: summary["sizes"][s]["gxn_minus_baseline_wall"] for s in ("1000", "fresh")}
    bought = summary["sizes"]["1000"]["control_wall_minus_baseline"]
    assert (f"its gap shrinks from {fmt(wall['fresh']['i2t_r1']['mean'])} / {fmt(wall['fresh']['t2i_r1']['mean'])} "
            f"R@1 (fresh scenes) to {fmt(wall['1000']['i2t_r1']['mean'])} / {fmt(wall['1000']['t2i_r1']['mean'])} "
            "(1,000 scenes)") in readme
    assert f"buy it nothing ({fmt(bought['i2t_r1']['mean'])} / +{fmt(bought['t2i_r1']['mean'])})" in readme
    assert f"{summary['survive']} of {summary['examined']} cells survive Holm" in readme
