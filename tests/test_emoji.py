"""The emoji dataset: names, splits, rendering and the on-disk cache.

The whole set is rendered once per module into a temporary cache (~10-15 s on
one core); the corrupt-cache test renders it a second time and checks the
result is byte-identical, which is also the determinism check.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lookimagine.data import load_dataset
from lookimagine.data import emoji_set
from lookimagine.data.emoji_set import (
    EMOJI_ATTRIBUTION,
    EMOJI_LICENCE,
    EmojiDataset,
    cldr_name,
    from_codepoints,
    split_of,
)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """(cache root, the dataset with every emoji) rendered into a fresh temporary cache."""
    root = tmp_path_factory.mktemp("emoji-cache")
    return root, EmojiDataset("all", cache_dir=root)


def _folder(root):
    return root / emoji_set._cache_key(64)


@pytest.mark.parametrize(
    "code, name",
    [
        ("1F469-1F3FE-200D-1F692", "woman firefighter: medium-dark skin tone"),
        ("1F600", "grinning face"),
        ("1F1E9-1F1EA", "flag: germany"),
        ("1F3F4-E0067-E0062-E0073-E0063-E0074-E007F", "flag: scotland"),
        ("0031-FE0F-20E3", "keycap: 1"),
        ("1F51F", "keycap: 10"),
        ("1F44D-1F3FD", "thumbs up: medium skin tone"),
        ("1F469-200D-2764-FE0F-200D-1F48B-200D-1F468", "kiss: woman, man"),
        ("1F468-200D-1F469-200D-1F467-200D-1F466", "family: man, woman, girl, boy"),
        ("1F471-1F3FB-200D-2640-FE0F", "woman: light skin tone, blond hair"),
        ("1F468-200D-1F9B0", "man: red hair"),
        ("1FAF1-1F3FB-200D-1FAF2-1F3FC", "handshake: light skin tone, medium-light skin tone"),
        ("1F9B0", "red hair"),
        ("1F3FB", "light skin tone"),
        ("1F3F3-FE0F-200D-1F308", "rainbow flag"),
        ("1F170-FE0F", "a button (blood type)"),
    ],
)
def test_cldr_names(code, name):
    assert cldr_name(from_codepoints(code)) == name


def test_private_use_extras_have_no_name():
    assert cldr_name(from_codepoints("E000")) is None
    assert cldr_name(from_codepoints("1F1E6")) is None  # a lone regional indicator is not an emoji


def test_split_assignment_is_stable():
    # golden values: changing the split rule would silently move items between train and test
    assert split_of("1F600") == "train"
    assert split_of("1F308") == "test"
    assert split_of("1F9E1") == "val"
    assert split_of("1F932") == "test"
    assert split_of("0030-FE0F-20E3") == "val"


def test_size_and_skips(rendered):
    _, everything = rendered
    assert 3500 <= len(everything) <= 4200
    assert everything.skipped_unnamed > 300  # OpenMoji's extras (PUA icons, extra flags, symbols)
    assert everything.skipped_blank == 0
    assert everything.skipped_not_single_glyph == 0  # raqm shapes every sequence into one glyph
    ids = [everything.id_of(i) for i in range(len(everything))]
    names = [everything.captions_of(i)[0] for i in range(len(everything))]
    assert len(set(ids)) == len(ids) and len(set(names)) == len(names)
    assert all(name == name.lower() and name.strip() == name for name in names)


def test_splits_are_disjoint_views(rendered):
    root, everything = rendered
    splits = {s: EmojiDataset(s, cache_dir=root) for s in ("train", "val", "test")}
    assert len(splits["test"]) >= 500 and len(splits["val"]) >= 300
    ids = {s: {d.id_of(i) for i in range(len(d))} for s, d in splits.items()}
    assert not ids["train"] & ids["val"] and not ids["train"] & ids["test"] and not ids["val"] & ids["test"]
    assert ids["train"] | ids["val"] | ids["test"] == {everything.id_of(i) for i in range(len(everything))}
    assert all(split_of(i) == s for s, group in ids.items() for i in group)
    by_id = {everything.id_of(i): i for i in range(len(everything))}
    test = splits["test"]
    for i in range(0, len(test), 50):  # a split's pixels are the same as in the full set
        assert np.array_equal(np.asarray(test[i].image), everything.images[by_id[test.id_of(i)]])


def test_known_items_and_pixels(rendered):
    _, everything = rendered
    by_id = {everything.id_of(i): i for i in range(len(everything))}
    item = everything[by_id["1F469-1F3FE-200D-1F692"]]
    assert item.captions == ("woman firefighter: medium-dark skin tone",)
    assert item.image.mode == "RGB" and item.image.size == (64, 64)
    assert everything.emoji_of(by_id["1F600"]) == "\U0001f600"
    images = everything.images
    assert images.dtype == np.uint8 and images.shape == (len(everything), 64, 64, 3)
    assert (images[:, 0, 0] == 255).all() and (images[:, -1, -1] == 255).all()  # white corners: centred, not clipped
    assert (images.reshape(len(images), -1).min(axis=1) < 128).all()  # every glyph has dark ink
    red = images[by_id["1F534"]].astype(int)  # red circle: its centre is red
    r, g, b = red[32, 32]
    assert r > 180 and g < 100 and b < 100


def test_load_dataset_routes_to_emoji(rendered):
    root, _ = rendered
    dataset = load_dataset("emoji", "val", cache_dir=root)
    assert isinstance(dataset, EmojiDataset) and dataset.name == "emoji" and dataset.split == "val"
    with pytest.raises(ValueError):
        EmojiDataset("validation", cache_dir=root)


def test_cache_corruption_is_detected(rendered, tmp_path):
    root, _ = rendered
    good = _folder(root)
    assert emoji_set.read_cache(good, 64) is not None

    def corrupted(edit):
        folder = tmp_path / edit.__name__
        shutil.copytree(good, folder)
        edit(folder)
        return emoji_set.read_cache(folder, 64)

    def truncated_array(folder):
        data = (folder / "images.npy").read_bytes()
        (folder / "images.npy").write_bytes(data[: len(data) // 2])

    def bad_json(folder):
        (folder / "meta.json").write_text('{"ids": [', encoding="utf-8")

    def flipped_pixel(folder):
        data = bytearray((folder / "images.npy").read_bytes())
        data[-1] ^= 0xFF
        (folder / "images.npy").write_bytes(bytes(data))

    def stale_version(folder):
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        meta["render_version"] = -1
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    def missing_array(folder):
        (folder / "images.npy").unlink()

    for edit in (truncated_array, bad_json, flipped_pixel, stale_version, missing_array):
        assert corrupted(edit) is None, edit.__name__


def test_corrupt_cache_is_rebuilt_identically(rendered, tmp_path):
    root, everything = rendered
    shutil.copytree(_folder(root), _folder(tmp_path))
    data = (_folder(tmp_path) / "images.npy").read_bytes()
    (_folder(tmp_path) / "images.npy").write_bytes(data[:1000])  # truncated
    rebuilt = EmojiDataset("all", cache_dir=tmp_path)  # re-renders everything
    assert np.array_equal(rebuilt.images, everything.images)  # rendering is deterministic
    assert [rebuilt.id_of(i) for i in range(len(rebuilt))] == [everything.id_of(i) for i in range(len(everything))]
    assert emoji_set.read_cache(_folder(tmp_path), 64) is not None  # and the cache was rewritten whole


def test_licence_text_names_openmoji():
    assert "OpenMoji" in EMOJI_LICENCE and "CC BY-SA 4.0" in EMOJI_LICENCE and "https://openmoji.org" in EMOJI_LICENCE
    assert "CLDR" in EMOJI_ATTRIBUTION
