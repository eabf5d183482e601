"""The README's and the reviewer's screenshots: the app on the shipped models, every tab, in headless Chromium.

    python scripts/screenshots.py [--out assets/figures] [--shots test-artifacts/screenshots]

Writes the README's pictures (``app_shapes_text_to_image.png``, ``app_shapes_free_sentence.png``,
``app_differences.png``, ``app_text_to_image.png`` (emoji)) to ``--out`` and one full-page shot of every tab to ``--shots``. It runs the app
in-process on the shipped pocket models (shapes first, emoji through the model selector) with an empty
gallery cache of its own, offline: nothing is downloaded. Needs Debian's ``chromium`` (``CHROMIUM=`` to
override) and Playwright's Python package (requirements-test.txt).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
WAIT = 120_000  # ms
FREE_SENTENCE = "a blue shape left of a red shape"  # true of 19 of the 1,000 test scenes
SHAPES_EXAMPLE = "a blue square and a red circle"
EMOJI_EXAMPLE = "man cook: dark skin tone"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(ROOT / "assets" / "figures"))
    parser.add_argument("--shots", default=str(ROOT / "test-artifacts" / "screenshots"))
    args = parser.parse_args(argv)
    os.environ.setdefault("LOOKIMAGINE_CACHE", tempfile.mkdtemp(prefix="lookimagine-shots-"))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from playwright.sync_api import expect, sync_playwright

    import app

    out, shots = Path(args.out), Path(args.shots)
    out.mkdir(parents=True, exist_ok=True), shots.mkdir(parents=True, exist_ok=True)
    demo = app.build_demo(app.load_pipelines(app.parse_args([])))
    _, url, _ = demo.launch(prevent_thread_lock=True, quiet=True, **app.launch_options())
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_context(viewport={"width": 1440, "height": 1480}).new_page()
            page.set_default_timeout(WAIT)
            page.goto(url)

            def text_query(sentence: str) -> None:
                page.get_by_role("tab", name="Text → Image").click()
                page.locator("#t2i-text textarea").fill(sentence)
                page.locator("#t2i-run").click()
                expect(page.locator("#gxn-t2i-badge")).to_contain_text("ms", timeout=WAIT)
                page.wait_for_timeout(1500)

            text_query(SHAPES_EXAMPLE)
            page.screenshot(path=str(out / "app_shapes_text_to_image.png"))
            text_query(FREE_SENTENCE)
            page.screenshot(path=str(out / "app_shapes_free_sentence.png"))
            page.screenshot(path=str(shots / "tab_text_to_image.png"), full_page=True)
            page.get_by_role("tab", name="Image → Text").click()
            page.locator("#i2t-examples img").first.click()
            expect(page.locator("#gxn-i2t-badge")).to_contain_text("ms", timeout=WAIT)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(shots / "tab_image_to_text.png"), full_page=True)
            page.get_by_role("tab", name="Where they differ").click()
            expect(page.locator("#diff-cards img").first).to_be_visible(timeout=WAIT)
            page.wait_for_timeout(2000)
            page.screenshot(path=str(out / "app_differences.png"))
            page.screenshot(path=str(shots / "tab_differences.png"), full_page=True)
            for name, file in (("Benchmark", "tab_benchmark.png"), ("About", "tab_about.png")):
                page.get_by_role("tab", name=name).click()
                page.wait_for_timeout(1500)
                page.screenshot(path=str(shots / file), full_page=True)
            # the emoji models, one click away in the selector
            page.locator("#model-select input, #model input").first.click()
            page.get_by_role("option", name="pocket · emoji").click()
            expect(page.locator("#gallery-line, .li-gallery-line").first).to_contain_text("emoji", timeout=WAIT)
            text_query(EMOJI_EXAMPLE)
            page.screenshot(path=str(out / "app_text_to_image.png"))
            page.screenshot(path=str(shots / "tab_emoji_text_to_image.png"), full_page=True)
            browser.close()
    finally:
        demo.close()
    print(f"screenshots in {out} and {shots}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
