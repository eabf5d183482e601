"""GXN − baseline at a glance: a forest plot of the paired verdicts (R@1, 95% intervals).

Reads the dicts that ``python -m lookimagine.evaluation.verdict`` wrote (``verdict.json``):
one row per dataset × split × direction, one marker per comparison found in them:

- equal epochs: ``splits[split]["gxn_minus_baseline"]`` of the staged verdict;
- equal wall-clock: ``splits[split]["gxn_minus_baseline_wall"]`` of the same verdict (GXN against the
  control trained as long as GXN's stages 2 and 3 take), where the verdict has it;
- the longer-trained encoder: ``gxn_minus_baseline`` of a second verdict, GXN's stages 2 and 3 and the
  control both started from the equal-wall-clock control (``assets/results/converged/``), where there is one.

``python -m lookimagine.report`` saves the figure as ``assets/figures/verdict_forest.png``; the README,
RESULTS.md and the app's Benchmark tab show that file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DIRECTIONS = (("i2t_r1", "image→text"), ("t2i_r1", "text→image"))
SPLIT_LABELS = {"test": "test", "test-heldout": "held-out colour–shape pairs",
                "test-style": "unseen artist (Noto)"}
SPLIT_ORDER = ("test", "test-heldout", "test-style")
# (name, verdict, key in a split): the order of the markers within a row, top to bottom.
COMPARISONS = (("equal epochs", "staged", "gxn_minus_baseline"),
               ("equal wall-clock", "staged", "gxn_minus_baseline_wall"),
               ("equal epochs, longer-trained encoder", "converged", "gxn_minus_baseline"))
STYLE = {"equal epochs": ("#4f46e5", "o", True), "equal wall-clock": ("#d97706", "s", True),
         "equal epochs, longer-trained encoder": ("#6b7280", "D", False)}  # colour, marker, filled


@dataclass(frozen=True)
class Cell:
    """One paired difference: the mean over seeds and its 95% t-interval."""
    comparison: str
    mean: float
    low: float
    high: float
    n: int

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


@dataclass(frozen=True)
class Row:
    dataset: str
    split: str
    direction: str  # "image→text" / "text→image"
    cells: tuple[Cell, ...]

    @property
    def label(self) -> str:
        return f"{SPLIT_LABELS.get(self.split, self.split)} · {self.direction}"


def _cell(comparison: str, stat: Mapping) -> Cell:
    low, high = stat.get("ci95") or (stat["mean"], stat["mean"])
    return Cell(comparison, float(stat["mean"]), float(low), float(high), int(stat.get("n", 0)))


def forest_rows(staged: Mapping[str, Mapping], converged: Mapping[str, Mapping] | None = None) -> list[Row]:
    """Rows of the plot from verdict dicts keyed by dataset (``{"shapes": verdict, ...}``), in the given order."""
    sources = {"staged": staged, "converged": converged or {}}
    rows = []
    for dataset, verdict in staged.items():
        splits = verdict["splits"]
        for split in sorted(splits, key=lambda s: (SPLIT_ORDER.index(s) if s in SPLIT_ORDER else 99, s)):
            for key, direction in DIRECTIONS:
                cells = []
                for name, source, field in COMPARISONS:
                    found = sources[source].get(dataset, {}).get("splits", {}).get(split, {}).get(field, {})
                    if key in found:
                        cells.append(_cell(name, found[key]))
                if cells:
                    rows.append(Row(dataset, split, direction, tuple(cells)))
    return rows


LEGEND = {"equal epochs": "equal epochs", "equal wall-clock": "equal wall-clock (the baseline trained as long as GXN)",
          "equal epochs, longer-trained encoder": "equal epochs, both from the longer-trained encoder"}


def _value(cell: Cell) -> str:
    return f"{cell.mean:+.1f} [{cell.low:+.1f}, {cell.high:+.1f}]".replace("-", "−")


def forest_figure(rows: list[Row], title: str = "GXN − baseline, R@1 (points)"):
    """A matplotlib Figure: one band per row, a marker and 95% interval per comparison, a line at 0.

    Each band's values are printed on the right in the marker's colour; the number of paired seeds goes
    in the subtitle when every cell has the same, else after each value.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    if not rows:
        raise ValueError("no rows: the verdicts hold no GXN − baseline cells")
    seeds = {c.n for r in rows for c in r.cells}
    names = [name for name, _, _ in COMPARISONS if any(c.comparison == name for r in rows for c in r.cells)]
    step, pad, gap = 0.30, 0.22, 0.75  # between markers, around a band, before a dataset (data units)
    heights = [step * len(r.cells) + 2 * pad for r in rows]
    datasets = list(dict.fromkeys(r.dataset for r in rows))
    total = sum(heights) + gap * len(datasets)
    inch = 0.62  # inches per data unit
    top_in, bottom_in = 0.75, 0.95  # title above the axes; tick labels, x label and legend below
    fig = Figure(figsize=(10.5, top_in + bottom_in + inch * total), dpi=120)
    h = fig.get_figheight()
    ax = fig.add_axes((0.30, bottom_in / h, 0.44, inch * total / h))
    lows = [c.low for r in rows for c in r.cells]
    highs = [c.high for r in rows for c in r.cells]
    span = max(highs + [0.0]) - min(lows + [0.0])
    x_min, x_max = min(lows + [0.0]) - 0.05 * span, max(highs + [0.0]) + 0.05 * span
    y, ticks, labels, group_tops = 0.0, [], [], []
    for i, (row, height) in enumerate(zip(rows, heights)):
        if i == 0 or row.dataset != rows[i - 1].dataset:
            group_tops.append((y, row.dataset))
            y -= gap
        centre = y - height / 2
        ticks.append(centre)
        labels.append(row.label)
        if i % 2 == 0:
            ax.axhspan(y - height, y, color="#f3f4f6", zorder=0, lw=0)
        for j, cell in enumerate(row.cells):
            colour, marker, filled = STYLE[cell.comparison]
            yy = centre + ((len(row.cells) - 1) / 2 - j) * step
            ax.plot([cell.low, cell.high], [yy, yy], color=colour, lw=2.0, solid_capstyle="butt", zorder=2,
                    gid=f"interval:{row.dataset}:{row.split}:{row.direction}:{cell.comparison}")
            ax.plot([cell.mean], [yy], marker=marker, ms=7.5, color=colour, mfc=colour if filled else "white",
                    mew=1.6, zorder=3, ls="none")
            text = _value(cell) + ("" if len(seeds) == 1 else f" (n={cell.n})")
            ax.annotate(text, xy=(1.0, yy), xycoords=("axes fraction", "data"), xytext=(8, 0),
                        textcoords="offset points", va="center", ha="left", fontsize=9, color=colour,
                        fontweight="bold" if cell.excludes_zero else "normal")
        y -= height
    for top, dataset in group_tops:
        ax.annotate(dataset, xy=(0.0, top - gap / 2), xycoords=("axes fraction", "data"), xytext=(-8, 0),
                    textcoords="offset points", ha="right", va="center", fontsize=12, fontweight="bold")
        if top < 0:
            ax.axhline(top, color="#9ca3af", lw=0.8, zorder=1)
    ax.axvline(0, color="black", lw=1.1, zorder=1)
    ax.set_ylim(y, 0.0)
    ax.set_xlim(x_min, x_max)
    ax.set_yticks(ticks, labels, fontsize=10)
    ax.tick_params(axis="y", length=0)
    ax.grid(axis="x", alpha=0.35)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_xlabel("← baseline ahead        GXN − baseline, R@1 (points)        GXN ahead →", fontsize=10)
    n_text = f"{next(iter(seeds))} paired seeds" if len(seeds) == 1 else "paired seeds"
    fig.text(0.30, 1 - 0.12 / h, title, fontsize=13, fontweight="bold", ha="left", va="top")
    fig.text(0.30, 1 - 0.42 / h, f"mean over {n_text}; bar = 95% interval; bold value = the interval excludes 0",
             fontsize=9.5, color="#374151", ha="left", va="top")
    handles = [Line2D([], [], color=STYLE[n][0], marker=STYLE[n][1], mfc=STYLE[n][0] if STYLE[n][2] else "white",
                      mew=1.6, lw=2.0, label=LEGEND[n]) for n in names]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.02 / h), ncol=len(handles), fontsize=9,
               frameon=False, handlelength=2.2, borderaxespad=0.2, columnspacing=1.4)
    return fig


def save_forest(fig, out: Path) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=fig.dpi, facecolor="white")
    return out
