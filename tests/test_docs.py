"""The README (the Space card), RESULTS.md and docs/: links resolve and the generated blocks are where the report writes."""

import re
from pathlib import Path

import pytest

from lookimagine import report
from lookimagine.evaluation import results as rep

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", ROOT / "RESULTS.md", *sorted((ROOT / "docs").glob("*.md"))]
# [text](target) and ![alt](target); targets with a scheme, mailto: or a bare #anchor are not files.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def strip_code(text: str) -> str:
    """The text without fenced code blocks and inline code, where brackets are not links."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page):
    broken = []
    for target in LINK.findall(strip_code(page.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
            continue
        path = target.split("#", 1)[0]
        if not (page.parent / path).exists():
            broken.append(target)
    assert broken == [], f"{page.name}: links to missing files {broken}"


def test_results_md_holds_the_generated_block_and_the_readme_the_figure():
    results = (ROOT / "RESULTS.md").read_text(encoding="utf-8")
    assert results.count(rep.MARK_START) == 1 and results.count(rep.MARK_END) == 1
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert rep.MARK_START not in readme, "the README no longer carries the results tables: RESULTS.md does"
    assert readme.count(report.MARK_FIGURE_START) == 1 and readme.count(report.MARK_FIGURE_END) == 1
    assert "assets/figures/verdict_forest.png" in readme and "](RESULTS.md)" in readme


def test_every_docs_page_is_linked_from_the_index():
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    for page in (ROOT / "docs").glob("*.md"):
        if page.name != "README.md":
            assert f"]({page.name})" in index, f"docs/README.md does not link {page.name}"
