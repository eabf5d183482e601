"""Shipped benchmark results for the app's Benchmark tab.

Reads what ``python -m lookimagine.report`` wrote into ``assets/``: the figure
``figures/verdict_forest.png`` (GXN − baseline with 95% intervals), the tables
``results/tables.md`` (the generated block of RESULTS.md) and the plots
``figures/*_imagined.png``, ``*_recall.png``, ``*_val_curves.png``. Missing files are
not an error: the tab says how to produce them.
"""

from __future__ import annotations

import re
from pathlib import Path

NO_RESULTS = (
    "### No benchmark results shipped yet\n\n"
    "Evaluate the checkpoints (`python -m lookimagine.evaluate --help`), then run `python -m lookimagine.report`: "
    "it writes `assets/results/tables.md`, RESULTS.md and the figures in `assets/figures/`, which this tab then shows."
)
FOREST = "verdict_forest.png"
FOREST_CAPTION = (
    "**GXN − baseline, R@1**, mean over five paired seeds with 95% intervals; right of 0, GXN is ahead. "
    "*Equal epochs*: GXN's joint fine-tuning against the same epochs without generators. "
    "*Equal wall-clock*: against the baseline trained as long as GXN's extra stages take. "
    "*Longer-trained encoder* (shapes): GXN and its control both started from that longer-trained baseline. "
    "The tables behind every point are folded below."
)
FIGURE_PATTERNS = ("*_imagined.png", "*_recall.png", "*_val_curves.png")
# Recall curves and val curves were drawn for the first recipe's models (one joint step) and are not
# redrawn by the report: say so under them.
SUPERSEDED = ("_recall", "_val_curves")
# README-style image lines (paths relative to the repository) do not resolve in the page: the tab
# shows the same figures in its own gallery (``benchmark_figures``), so they are dropped from the text.
_IMAGE_LINE = re.compile(r"^!\[[^\]]*\]\([^)]*\)\s*$", re.MULTILINE)
_HEADING = re.compile(r"^#{2,4} +(.+?)\s*$", re.MULTILINE)


def benchmark_figure(assets_dir: str | Path) -> Path | None:
    """``<assets_dir>/figures/verdict_forest.png``, the figure the tab opens on, if the report drew it."""
    path = Path(assets_dir) / "figures" / FOREST
    return path if path.is_file() else None


def benchmark_markdown(assets_dir: str | Path) -> str:
    """The contents of ``<assets_dir>/results/tables.md``, or a note saying how to make it."""
    path = Path(assets_dir) / "results" / "tables.md"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return NO_RESULTS
    text = _IMAGE_LINE.sub("", text).strip()
    return text or NO_RESULTS


def benchmark_sections(assets_dir: str | Path) -> list[tuple[str, str]]:
    """``benchmark_markdown`` cut at its headings: (title, markdown under it), in order.

    Text before the first heading (the generator's comment) goes with the first section.
    """
    text = benchmark_markdown(assets_dir)
    heads = list(_HEADING.finditer(text))
    if not heads:
        return [("Tables", text)]
    sections = []
    for i, m in enumerate(heads):
        end = heads[i + 1].start() if i + 1 < len(heads) else len(text)
        start = 0 if i == 0 else m.start()
        body = (text[start:m.start()] + text[m.end():end]).strip()
        sections.append((m.group(1).strip(), body))
    return sections


def benchmark_figures(assets_dir: str | Path) -> list[Path]:
    """The other plots in ``<assets_dir>/figures``: imagined sheets, then recall, then val curves, by name."""
    folder = Path(assets_dir) / "figures"
    if not folder.is_dir():
        return []
    return [p for pattern in FIGURE_PATTERNS for p in sorted(folder.glob(pattern)) if p.is_file()]


def figure_label(path: Path) -> str:
    """A gallery caption: the file's stem in words, marked when it shows the superseded first recipe."""
    label = path.stem.replace("_", " ")
    return label + " (first recipe, superseded)" if path.stem.endswith(SUPERSEDED) else label
