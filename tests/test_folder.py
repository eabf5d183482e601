"""A gallery folder with broken rows loads its good rows and says why it skipped the rest."""

import json
import logging

import pytest
from PIL import Image

from lookimagine.data import load_dataset
from lookimagine.data.folder import FolderDataset


def write_rows(root, rows):
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    (root / "captions.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture
def gallery(tmp_path):
    root = tmp_path / "gallery"
    (root / "sub").mkdir(parents=True)
    Image.new("RGB", (8, 4), (255, 0, 0)).save(root / "red.png")
    Image.new("RGBA", (4, 4), (0, 0, 0, 0)).save(root / "sub" / "clear.png")
    (root / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    (root / "notes.txt").write_text("hello")
    outside = tmp_path / "escape.png"
    Image.new("RGB", (4, 4)).save(outside)
    (root / "link.png").symlink_to(outside)
    (root / "inner-link.png").symlink_to(root / "red.png")
    return root


def test_good_rows_kept_bad_rows_skipped_with_reasons(gallery, tmp_path, caplog):
    write_rows(gallery, [
        {"image": "red.png", "captions": ["  a red box ", "red"]},        # 1 good
        "{this is not json",                                             # 2
        {"image": "missing.png", "captions": ["x"]},                     # 3
        {"image": "corrupt.png", "captions": ["x"]},                     # 4
        {"image": "notes.txt", "captions": ["x"]},                       # 5
        {"image": "sub/clear.png", "captions": []},                      # 6
        {"image": "sub/clear.png"},                                      # 7
        {"image": "../escape.png", "captions": ["x"]},                   # 8
        {"image": str(tmp_path / "escape.png"), "captions": ["x"]},      # 9
        {"image": "link.png", "captions": ["x"]},                        # 10
        "",                                                              # 11 blank: ignored
        {"image": "./sub/clear.png", "captions": ["nothing", "  "]},     # 12 good
        {"image": "sub/clear.png", "captions": ["again"]},               # 13 duplicate
        {"image": "inner-link.png", "captions": ["a link inside"]},      # 14 good
        ["image", "captions"],                                           # 15
        {"image": "red.png", "captions": "a string"},                    # 16
        {"image": "", "captions": ["x"]},                                # 17
    ])
    with caplog.at_level(logging.WARNING):
        dataset = FolderDataset(gallery, max_report=20)

    assert dataset.name == "folder" and dataset.split == "gallery"
    assert [dataset.id_of(i) for i in range(len(dataset))] == ["red.png", "sub/clear.png", "inner-link.png"]
    assert dataset.captions_of(0) == ("a red box", "red")
    assert dataset.captions_of(1) == ("nothing",)
    assert dataset.skipped == 13
    reasons = dict(problem.split(": ", 1) for problem in dataset.problems)
    assert "not valid JSON" in reasons["line 2"]
    assert "not found" in reasons["line 3"]
    assert "not a readable image" in reasons["line 4"]
    assert "not a readable image" in reasons["line 5"]
    assert "no captions" in reasons["line 6"]
    assert "no captions" in reasons["line 7"]
    assert "leaves the gallery folder" in reasons["line 8"]
    assert "absolute path" in reasons["line 9"]
    assert "outside the gallery folder" in reasons["line 10"]
    assert "line 11" not in reasons
    assert "repeats" in reasons["line 13"]
    assert "JSON object" in reasons["line 15"]
    assert "list of strings" in reasons["line 16"]
    assert "no 'image'" in reasons["line 17"]
    assert "skipped 13 of 16 rows" in caplog.text


def test_images_load_as_rgb_optionally_square(gallery):
    write_rows(gallery, [{"image": "red.png", "captions": ["r"]}, {"image": "sub/clear.png", "captions": ["c"]}])
    dataset = load_dataset("folder", root=gallery)
    assert dataset[0].image.size == (8, 4) and dataset[0].image.getpixel((0, 0)) == (255, 0, 0)
    assert dataset[1].image.getpixel((1, 1)) == (255, 255, 255)  # transparent -> white
    assert dataset.skipped == 0 and dataset.problems == []
    square = FolderDataset(gallery, image_size=6)
    assert square.load_image(0).size == (6, 6)


def test_problem_report_is_capped(gallery):
    write_rows(gallery, [{"image": "red.png", "captions": ["r"]}] + ["{bad"] * 9)
    dataset = FolderDataset(gallery, max_report=3)
    assert dataset.skipped == 9
    assert [problem.split(": ")[0] for problem in dataset.problems] == ["line 2", "line 3", "line 4"]
    assert all("not valid JSON" in problem for problem in dataset.problems)


def test_missing_folder_or_captions_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FolderDataset(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="captions.jsonl"):
        FolderDataset(tmp_path)


def test_no_usable_rows_is_a_clear_error(gallery):
    write_rows(gallery, [{"image": "missing.png", "captions": ["x"]}])
    with pytest.raises(ValueError, match="no usable rows.*line 1: image file 'missing.png' not found"):
        FolderDataset(gallery)


def test_non_utf8_line_is_skipped(gallery):
    (gallery / "captions.jsonl").write_bytes(
        b'{"image": "red.png", "captions": ["ok"]}\n\xff\xfe{"image": "x"}\n'
    )
    dataset = FolderDataset(gallery)
    assert len(dataset) == 1 and dataset.problems == ["line 2: not UTF-8 text"]


def test_nul_byte_in_path_is_a_bad_row(gallery):
    write_rows(gallery, [{"image": "red.png", "captions": ["r"]}, {"image": "a\u0000.png", "captions": ["x"]}])
    dataset = FolderDataset(gallery)
    assert len(dataset) == 1 and dataset.problems[0].startswith("line 2: path")
