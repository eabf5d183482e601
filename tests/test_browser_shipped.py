"""The shipped pocket emoji models in a real browser (headless Chromium, Playwright).

The same paths as ``test_browser.py`` but on the trained emoji GXN and baseline
(``python app.py --dataset emoji``; the default opens on shapes); screenshots go to
``test-artifacts/screenshots/shipped_*.png``.
"""

import json
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect  # noqa: E402

import app  # noqa: E402

from .test_browser import SHOTS, WAIT, chromium, shot  # noqa: E402,F401  (the Chromium fixture is shared)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
SHIPPED = Path(__file__).resolve().parents[1] / "assets" / "checkpoints" / "emoji"


def shot_path(name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS / f"{name}.png"


@pytest.fixture(scope="module")
def shipped_url(tmp_path_factory):
    if not (SHIPPED / "gxn").is_dir():
        pytest.skip("no shipped emoji checkpoints in assets/checkpoints/emoji")
    import os

    os.environ.setdefault("LOOKIMAGINE_CACHE", str(tmp_path_factory.mktemp("cache")))
    from lookimagine.pipeline import LookImagineMatch

    pipeline = LookImagineMatch.from_pretrained(SHIPPED, device="cpu", progress=False)
    demo = app.build_demo({pipeline.name: pipeline})
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options())
    try:
        yield url, pipeline
    finally:
        demo.close()


@pytest.fixture
def shipped_tab(chromium, shipped_url):  # noqa: F811
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(WAIT)
    pg.goto(shipped_url[0])
    expect(pg.locator("#t2i-text textarea")).to_be_visible(timeout=WAIT)
    try:
        yield pg
    finally:
        context.close()


def test_shipped_text_query(shipped_tab, shipped_url):
    caption = shipped_url[1].examples("text_to_image")[2]
    shipped_tab.locator("#t2i-text textarea").fill(caption)
    shipped_tab.locator("#t2i-run").click()
    expect(shipped_tab.locator("#gxn-t2i-imagine img").first).to_be_visible(timeout=WAIT)
    expect(shipped_tab.locator("#gxn-t2i-match img").first).to_be_visible(timeout=WAIT)
    expect(shipped_tab.locator("#baseline-t2i-match img").first).to_be_visible(timeout=WAIT)
    expect(shipped_tab.locator("#gxn-t2i-badge")).to_contain_text("Ground truth at rank", timeout=WAIT)
    expect(shipped_tab.locator("#baseline-t2i-imagine")).to_contain_text("no generator")
    shipped_tab.wait_for_timeout(800)
    shot(shipped_tab, "shipped_01_text_to_image")


def test_shipped_image_query(shipped_tab, shipped_url, tmp_path):
    shipped_url[1].examples("image_to_text")[5].save(tmp_path / "query.png")
    shipped_tab.get_by_role("tab", name="Image → Text").click()
    shipped_tab.locator("#i2t-image input[type=file]").set_input_files(str(tmp_path / "query.png"))
    expect(shipped_tab.locator("#gxn-i2t-imagine blockquote")).to_be_visible(timeout=WAIT)
    expect(shipped_tab.locator("#gxn-i2t-badge")).to_contain_text("Ground truth at rank", timeout=WAIT)
    expect(shipped_tab.locator("#baseline-i2t-match")).to_contain_text("truth", timeout=WAIT)
    shipped_tab.wait_for_timeout(800)
    shot(shipped_tab, "shipped_02_image_to_text")


def test_shipped_difference_row(shipped_tab):
    diff = SHIPPED / "differences.json"
    if not diff.is_file():
        pytest.skip("no differences.json shipped")
    row = json.loads(diff.read_text())["rows"][0]
    shipped_tab.get_by_role("tab", name="Where they differ").click()
    expect(shipped_tab.locator("#diff-cards img").first).to_be_visible(timeout=WAIT)
    shot(shipped_tab, "shipped_03_differences")
    shipped_tab.locator("#diff-cards img").first.click()  # the first card is the file's first row
    prefix = "i2t" if row["direction"] == "image_to_text" else "t2i"
    expect(shipped_tab.locator(f"#gxn-{prefix}-badge")).to_contain_text(
        f"Ground truth at rank {row['gxn_rank']} ", timeout=WAIT)
    shipped_tab.wait_for_timeout(800)
    shot(shipped_tab, "shipped_03_difference_clicked")


def test_shipped_benchmark_tab_shows_tables_and_figures(shipped_tab):
    shipped_tab.get_by_role("tab", name="Benchmark").click()
    expect(shipped_tab.locator("#bench-forest img")).to_be_visible(timeout=WAIT)
    shipped_tab.get_by_text("emoji: GXN against its baseline").click()  # the tables are folded
    expect(shipped_tab.locator("#bench-md")).to_contain_text("Verdict on emoji", timeout=WAIT)
    shipped_tab.wait_for_timeout(1500)
    broken = shipped_tab.evaluate(
        "() => [...document.querySelectorAll('img')].filter(i => i.complete && i.naturalWidth === 0).map(i => i.src)")
    assert broken == [], broken
    shot(shipped_tab, "shipped_04_benchmark")
    shipped_tab.get_by_text("More figures").click()
    figures = shipped_tab.locator("#bench-figures img")
    expect(figures.first).to_be_attached(timeout=WAIT)
    for i in range(figures.count()):  # thumbnails load lazily, as they come into view
        figures.nth(i).scroll_into_view_if_needed()
    shipped_tab.wait_for_function("() => [...document.querySelectorAll('#bench-figures img')]"
                                  ".every(i => i.complete && i.naturalWidth > 0)", timeout=WAIT)
    shipped_tab.locator("#bench-figures").screenshot(path=str(shot_path("shipped_05_benchmark_figures")))
