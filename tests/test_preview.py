"""Contact sheets and the ``python -m lookimagine.data`` command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageFont

from lookimagine.data import __main__ as cli
from lookimagine.data.items import CaptionDataset
from lookimagine.data.preview import CELL_WIDTH, THUMB, contact_sheet, wrap
from lookimagine.data.shapes import ShapesDataset


class Tiny(CaptionDataset):
    """Three solid-colour images, one of them wide, with captions of different lengths."""

    name, split = "tiny", "test"
    colours = ((255, 0, 0), (0, 160, 0), (0, 0, 255))

    def __len__(self):
        return 3

    def load_image(self, index):
        return Image.new("RGB", (200, 100) if index == 1 else (64, 64), self.colours[index])

    def captions_of(self, index):
        return ("short",) if index == 0 else tuple(f"caption {k} " + "quite long words " * index for k in range(5))

    def id_of(self, index):
        return f"tiny-{index}"


def test_wrap_respects_width_and_keeps_words():
    font = ImageFont.load_default(size=11)
    text = "couple with heart: woman, man, medium-light skin tone, dark skin tone"
    lines = wrap(text, font, 100)
    assert len(lines) > 1 and all(font.getlength(line) <= 100 for line in lines)
    assert " ".join(lines) == text
    assert all(font.getlength(line) <= 30 for line in wrap("supercalifragilistic", font, 30))


def test_contact_sheet_layout():
    sheet = contact_sheet(Tiny(), n=10, columns=2, seed=0)
    assert sheet.mode == "RGB" and sheet.width == 2 * CELL_WIDTH
    assert sheet.height > 2 * THUMB
    pixels = np.asarray(sheet)
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 50) & (pixels[..., 2] < 50)
    blue = (pixels[..., 2] > 200) & (pixels[..., 0] < 50) & (pixels[..., 1] < 50)
    assert red[:, :CELL_WIDTH].sum() > 0.9 * THUMB * THUMB  # item 0 top left, upscaled to the thumbnail size
    assert blue[:, :CELL_WIDTH].sum() > 0.9 * THUMB * THUMB  # item 2 starts the second row
    assert not red[:, CELL_WIDTH:].any()
    longer = contact_sheet(Tiny(), n=10, columns=3, seed=0)
    assert longer.height < sheet.height  # one row instead of two


def test_contact_sheet_rejects_empty_requests():
    with pytest.raises(ValueError):
        contact_sheet(Tiny(), n=0)
    with pytest.raises(ValueError):
        contact_sheet(ShapesDataset("train", n=0))


def test_cli_preview_writes_png(tmp_path):
    out = tmp_path / "sheet.png"
    result = subprocess.run(
        [sys.executable, "-m", "lookimagine.data", "preview", "--dataset", "shapes", "--split", "test-heldout",
         "--n", "12", "--columns", "4", "--out", str(out)],
        capture_output=True, text=True, check=True,
    )
    report = json.loads(result.stdout)
    with Image.open(out) as image:
        assert image.format == "PNG" and image.size == (4 * CELL_WIDTH, report["height"])
        assert image.height > 3 * THUMB


def test_cli_stats_reports_every_split(capsys):
    assert cli.main(["stats", "--dataset", "shapes", "--timing-n", "20"]) == 0
    report = json.loads(capsys.readouterr().out)
    sizes = {split: s["n"] for split, s in report["splits"].items()}
    assert sizes == {"train": 20_000, "val": 1_000, "test": 1_000, "test-heldout": 1_000}
    assert all(s["items_per_s"] > 0 for s in report["splits"].values())


def test_cli_explains_missing_paths():
    with pytest.raises(SystemExit, match="--root"):
        cli.main(["preview", "--dataset", "folder", "--out", "x.png"])


def test_contact_sheet_small_thumbnails_and_styles_in_title():
    small = contact_sheet(Tiny(), n=3, columns=3, seed=0, thumb=64)
    assert small.width == 3 * (CELL_WIDTH - THUMB + 64)
    pixels = np.asarray(small)
    red = (pixels[..., 0] > 200) & (pixels[..., 1] < 50) & (pixels[..., 2] < 50)
    assert 0.9 * 64 * 64 < red.sum() <= 64 * 64 + 64  # item 0 drawn at 64 px
    with pytest.raises(ValueError):
        contact_sheet(Tiny(), thumb=4)
    styled = Tiny()
    styled.styles = ("openmoji", "twemoji")  # an emoji dataset's artists are named in the title line
    titled = np.asarray(contact_sheet(styled, n=3, columns=3, seed=0, thumb=64))
    assert titled.shape == pixels.shape
    assert (titled[:24] != pixels[:24]).any() and (titled[24:] == pixels[24:]).all()


def test_cli_styles_only_for_emoji():
    with pytest.raises(SystemExit, match="--styles"):
        cli.main(["stats", "--dataset", "shapes", "--styles", "twemoji"])
