"""The Benchmark figure: GXN − baseline per dataset × split × direction, read from verdict JSONs."""

import json
import shutil
from pathlib import Path

import pytest

from lookimagine.evaluation import forest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "assets" / "results"


def stat(mean, low, high, n=3):
    return {"n": n, "mean": mean, "std": 1.0, "ci95": [low, high], "values": [mean] * n}


def split(i2t, t2i, wall=None):
    s = {"seeds": [0, 1, 2], "protocol": "text",
         "gxn_minus_baseline": {"i2t_r1": stat(*i2t), "t2i_r1": stat(*t2i), "rsum": stat(0.0, -1.0, 1.0)}}
    if wall:
        s["gxn_minus_baseline_wall"] = {"i2t_r1": stat(*wall[0]), "t2i_r1": stat(*wall[1])}
    return s


@pytest.fixture
def tiny():
    """Two datasets; equal wall-clock only on 'a'; a longer-trained-encoder verdict only for 'a'."""
    staged = {"a": {"command": "x", "splits": {"test-heldout": split((1.0, -0.5, 2.5), (3.0, 1.0, 5.0)),
                                               "test": split((0.5, -1.0, 2.0), (-0.2, -1.2, 0.8),
                                                             wall=((-6.0, -8.0, -4.0), (-3.0, -5.0, -1.0)))}},
              "b": {"command": "y", "splits": {"test": split((-0.3, -2.0, 1.4), (0.1, -0.9, 1.1))}}}
    converged = {"a": {"command": "z", "splits": {"test": split((-1.0, -3.0, 1.0), (1.5, 0.2, 2.8))}}}
    return staged, converged


def test_rows_follow_datasets_splits_and_directions(tiny):
    rows = forest.forest_rows(*tiny)
    assert [(r.dataset, r.split, r.direction) for r in rows] == [
        ("a", "test", "image→text"), ("a", "test", "text→image"),
        ("a", "test-heldout", "image→text"), ("a", "test-heldout", "text→image"),
        ("b", "test", "image→text"), ("b", "test", "text→image")]
    a_test = rows[1].cells
    assert [c.comparison for c in a_test] == ["equal epochs", "equal wall-clock", "equal epochs, longer-trained encoder"]
    assert (a_test[1].mean, a_test[1].low, a_test[1].high, a_test[1].n) == (-3.0, -5.0, -1.0, 3)
    assert a_test[1].excludes_zero and not a_test[0].excludes_zero
    assert [c.comparison for c in rows[2].cells] == ["equal epochs"]  # no wall-clock, no converged cell there
    assert [c.comparison for c in rows[4].cells] == ["equal epochs"]


def plotted_intervals(fig) -> set[tuple[float, float]]:
    ax = fig.axes[0]
    return {tuple(round(float(x), 6) for x in line.get_xdata()) for line in ax.get_lines()
            if (line.get_gid() or "").startswith("interval:")}


def test_figure_draws_every_interval_and_a_zero_line(tiny, tmp_path):
    rows = forest.forest_rows(*tiny)
    fig = forest.forest_figure(rows)
    drawn = plotted_intervals(fig)
    for row in rows:
        for cell in row.cells:
            assert (round(cell.low, 6), round(cell.high, 6)) in drawn
    ax = fig.axes[0]
    assert any(list(line.get_xdata()) == [0, 0] for line in ax.get_lines()), "no line at 0"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert "held-out colour–shape pairs · text→image" in labels and len(labels) == len(rows)
    texts = " ".join(t.get_text() for t in fig.texts + ax.texts)
    assert "3 paired seeds" in texts and "+3.0 [+1.0, +5.0]" in texts and "−6.0 [−8.0, −4.0]" in texts
    out = forest.save_forest(fig, tmp_path / "f.png")
    from PIL import Image

    with Image.open(out) as im:
        assert im.format == "PNG" and im.width > 800 and im.height > 400


def test_no_cells_is_a_clear_error():
    with pytest.raises(ValueError, match="no rows"):
        forest.forest_figure([])


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_the_shipped_verdicts_give_eight_rows_with_both_comparisons():
    staged = {d: load(RESULTS / "staged" / d / "verdict.json") for d in ("shapes", "emoji")}
    converged = {"shapes": load(RESULTS / "converged" / "shapes" / "verdict.json")}
    rows = forest.forest_rows(staged, converged)
    assert len(rows) == 8
    for row in rows:
        names = [c.comparison for c in row.cells]
        assert names[:2] == ["equal epochs", "equal wall-clock"]
        assert ("equal epochs, longer-trained encoder" in names) == (row.dataset == "shapes")
        key = "i2t_r1" if row.direction == "image→text" else "t2i_r1"
        s = staged[row.dataset]["splits"][row.split]
        assert row.cells[0].mean == pytest.approx(s["gxn_minus_baseline"][key]["mean"])
        assert row.cells[1].high == pytest.approx(s["gxn_minus_baseline_wall"][key]["ci95"][1])
    held_out_t2i = next(r for r in rows if r.dataset == "shapes" and r.split == "test-heldout" and r.direction == "text→image")
    assert held_out_t2i.cells[0].excludes_zero and held_out_t2i.cells[0].mean > 0  # the +2.8 of the headline
    fig = forest.forest_figure(rows)
    assert len(plotted_intervals(fig)) == sum(len(r.cells) for r in rows)


def test_the_shipped_figure_and_results_are_what_the_report_writes_now(tmp_path):
    """RESULTS.md's generated block and the README's figure block are up to date with the verdict JSONs."""
    from lookimagine import report
    from lookimagine.evaluation import results as rep

    assets = tmp_path / "assets"
    shutil.copytree(RESULTS, assets / "results", ignore=shutil.ignore_patterns("analysis", "repro", "val"))
    (assets / "figures").mkdir()
    for sheet in (ROOT / "assets" / "figures").glob("*_imagined.png"):  # only their presence is read
        (assets / "figures" / sheet.name).touch()
    for config in (ROOT / "assets" / "checkpoints").glob("*/*/config.json"):  # the shipped seeds
        target = assets / config.relative_to(ROOT / "assets")
        target.parent.mkdir(parents=True)
        shutil.copy(config, target)
    readme, results_md = tmp_path / "README.md", tmp_path / "RESULTS.md"
    shutil.copy(ROOT / "README.md", readme)
    shutil.copy(ROOT / "RESULTS.md", results_md)
    report.tables(assets, readme, "python -m lookimagine.report", results_md)
    assert (assets / "figures" / "verdict_forest.png").is_file()
    assert (ROOT / "assets" / "figures" / "verdict_forest.png").is_file()

    def block(text, start, end):
        return text.split(start, 1)[1].split(end, 1)[0]

    for path, start, end in ((results_md, rep.MARK_START, rep.MARK_END),
                             (readme, report.MARK_FIGURE_START, report.MARK_FIGURE_END)):
        shipped = (ROOT / path.name).read_text()
        assert block(path.read_text(), start, end) == block(shipped, start, end), (
            f"{path.name} is out of date: run python -m lookimagine.report")
