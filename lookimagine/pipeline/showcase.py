"""Shipped benchmark results for the app's Benchmark tab.

Reads what the evaluation command wrote into ``assets/``: the markdown table
``results/RESULTS.md`` and the plots ``figures/*_recall.png`` and
``figures/*_imagined.png``. Missing files are not an error: the tab says
how to produce them.
"""

from __future__ import annotations

import re
from pathlib import Path

NO_RESULTS = (
    "### No benchmark results shipped yet\n\n"
    "Evaluate the checkpoints (`python -m lookimagine.evaluate --help`), then run `python -m lookimagine.report`: "
    "it writes `assets/results/RESULTS.md` and the plots in `assets/figures/`, which this tab then shows."
)
FIGURE_PATTERNS = ("*_recall.png", "*_val_curves.png", "*_imagined.png")
# README-style image lines (paths relative to the repository) do not resolve in the page: the tab
# shows the same figures in its own gallery (``benchmark_figures``), so they are dropped from the text.
_IMAGE_LINE = re.compile(r"^!\[[^\]]*\]\([^)]*\)\s*$", re.MULTILINE)


def benchmark_markdown(assets_dir: str | Path) -> str:
    """The contents of ``<assets_dir>/results/RESULTS.md``, or a note saying how to make it."""
    path = Path(assets_dir) / "results" / "RESULTS.md"
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return NO_RESULTS
    text = _IMAGE_LINE.sub("", text).strip()
    return text or NO_RESULTS


def benchmark_figures(assets_dir: str | Path) -> list[Path]:
    """The recall and imagination plots in ``<assets_dir>/figures``, recall first, sorted by name."""
    folder = Path(assets_dir) / "figures"
    if not folder.is_dir():
        return []
    return [p for pattern in FIGURE_PATTERNS for p in sorted(folder.glob(pattern)) if p.is_file()]
