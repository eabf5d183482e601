"""The page in a real browser: headless Chromium (Debian's) driven by Playwright.

Runs the app on FakePipeline (UI only: the API and its error paths are tested on
the tiny real pipeline in ``test_app_api``), clicks through the three query paths and saves
screenshots in ``test-artifacts/screenshots/`` for a person to look at.

    pytest -m browser tests/test_browser.py        # CHROMIUM=/path/to/chromium to override
"""

import os
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect, sync_playwright  # noqa: E402

import app  # noqa: E402
from lookimagine.demo import views  # noqa: E402
from lookimagine.demo.fake import FakePipeline  # noqa: E402

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(600),
    pytest.mark.filterwarnings("ignore:.*no_silent_downcasting:DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning"),
]

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run", "--disable-sync"]
SHOTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "screenshots"
WAIT = 60_000  # ms: generous, the CI machine is small and shared


@pytest.fixture(scope="module")
def url():
    demo = app.build_demo({"fake · shapes": FakePipeline(), "fake · shapes (seed 1)": FakePipeline(
        name="fake · shapes (seed 1)", seed=1)})
    _, local_url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options())
    try:
        yield local_url
    finally:
        demo.close()


@pytest.fixture(scope="module")
def chromium():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM=...)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def tab(chromium, url):
    """A fresh browser tab on the app (not named ``page``: pytest-playwright owns that name)."""
    context = chromium.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(WAIT)
    pg.goto(url)
    expect(pg.locator("#t2i-text textarea")).to_be_visible(timeout=WAIT)
    try:
        yield pg
    finally:
        context.close()


def shot(pg, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_text_query_shows_imagined_pictures_and_both_rankings(tab):
    tab.locator("#t2i-text textarea").fill(FakePipeline().examples("text_to_image")[1])
    tab.locator("#t2i-run").click()
    expect(tab.locator("#gxn-t2i-imagine img").first).to_be_visible(timeout=WAIT)
    expect(tab.locator("#baseline-t2i-match img").first).to_be_visible(timeout=WAIT)
    expect(tab.locator("#gxn-t2i-match img").first).to_be_visible(timeout=WAIT)
    expect(tab.locator("#gxn-t2i-badge")).to_contain_text("Ground truth at rank", timeout=WAIT)
    expect(tab.locator("#baseline-t2i-badge")).to_contain_text("Ground truth at rank", timeout=WAIT)
    expect(tab.locator("#gxn-t2i-look .js-plotly-plot")).to_be_visible(timeout=WAIT)
    expect(tab.locator("#baseline-t2i-imagine")).to_contain_text("no generator")
    assert tab.locator("#gxn-t2i-match img").count() == 5
    tab.wait_for_timeout(500)  # let plotly finish drawing
    shot(tab, "01_text_to_image")


def test_text_example_click_runs(tab):
    tab.locator("#t2i-examples button, #t2i-examples td").first.click()
    expect(tab.locator("#gxn-t2i-imagine img").first).to_be_visible(timeout=WAIT)
    expect(tab.locator("#t2i-text textarea")).not_to_have_value("")


def test_image_upload_shows_a_caption(tab, tmp_path):
    FakePipeline().examples("image_to_text")[3].save(tmp_path / "query.png")
    tab.get_by_role("tab", name="Image → Text").click()
    tab.locator("#i2t-image input[type=file]").set_input_files(str(tmp_path / "query.png"))
    expect(tab.locator("#gxn-i2t-imagine blockquote")).to_contain_text("a ", timeout=WAIT)
    expect(tab.locator("#gxn-i2t-match")).to_contain_text("✓", timeout=WAIT)
    expect(tab.locator("#baseline-i2t-match")).to_contain_text("truth", timeout=WAIT)
    expect(tab.locator("#gxn-i2t-badge")).to_contain_text("Ground truth at rank", timeout=WAIT)
    tab.wait_for_timeout(500)
    shot(tab, "02_image_to_text")


def test_image_example_click_runs(tab):
    tab.get_by_role("tab", name="Image → Text").click()
    tab.locator("#i2t-examples button img, #i2t-examples img").first.click()
    expect(tab.locator("#gxn-i2t-imagine blockquote")).to_be_visible(timeout=WAIT)
    expect(tab.locator("#gxn-i2t-badge")).to_contain_text("Ground truth", timeout=WAIT)


def test_difference_card_runs_that_query(tab):
    fake = FakePipeline()
    row = views.pick_differences(fake.differences())[0]
    expected = fake.run(fake.query_of(row.direction, row.query_id), k=1)
    tab.get_by_role("tab", name="Where they differ").click()
    cards = tab.locator("#diff-cards img")
    expect(cards.first).to_be_visible(timeout=WAIT)
    expect(tab.locator("#diff-cards")).to_contain_text(views.difference_label(expected), timeout=WAIT)
    shot(tab, "03_differences")
    cards.first.click()
    prefix = "i2t" if row.direction == "image_to_text" else "t2i"
    expect(tab.locator(f"#gxn-{prefix}-badge")).to_contain_text(
        f"Ground truth at rank {expected.gxn.ground_truth_rank} ", timeout=WAIT)
    expect(tab.locator(f"#baseline-{prefix}-badge")).to_contain_text(
        f"Ground truth at rank {expected.baseline.ground_truth_rank} ", timeout=WAIT)
    tab.wait_for_timeout(500)
    shot(tab, "04_difference_clicked")


def test_empty_query_shows_an_error_and_the_page_recovers(tab):
    tab.locator("#t2i-text textarea").fill("   ")
    tab.locator("#t2i-run").click()
    expect(tab.get_by_text("The query is empty").first).to_be_visible(timeout=WAIT)
    shot(tab, "05_error")
    tab.locator("#t2i-text textarea").fill("a red circle")
    tab.locator("#t2i-run").click()
    expect(tab.locator("#gxn-t2i-match img").first).to_be_visible(timeout=WAIT)


def test_benchmark_and_about_tabs(tab):
    tab.get_by_role("tab", name="Benchmark").click()
    expect(tab.locator("#bench-forest img")).to_be_visible(timeout=WAIT)  # the figure first
    expect(tab.locator("#bench-md")).to_be_visible(timeout=WAIT)  # the tables, folded below it
    tab.wait_for_function("() => [...document.querySelectorAll('#bench-forest img')]"
                          ".every(i => i.complete && i.naturalWidth > 0)", timeout=WAIT)
    assert tab.locator("#bench-forest").bounding_box()["y"] < tab.locator("#bench-md").bounding_box()["y"]
    shot(tab, "06_benchmark")
    tab.get_by_role("tab", name="About").click()
    expect(tab.get_by_text("arXiv:1711.06420")).to_be_visible(timeout=WAIT)
    expect(tab.locator("#attribution")).to_contain_text("Synthetic shapes")
    shot(tab, "07_about")


def test_switching_model_updates_the_page(tab):
    tab.locator("#model input").click()
    tab.get_by_role("option", name="fake · shapes (seed 1)").click()
    expect(tab.locator("#gallery-line")).to_contain_text("fake shapes", timeout=WAIT)
    tab.locator("#t2i-text textarea").fill("a red circle")
    tab.locator("#t2i-run").click()
    expect(tab.locator("#gxn-t2i-match img").first).to_be_visible(timeout=WAIT)
