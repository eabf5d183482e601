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
from lookimagine.data.emoji_names import cldr_name, from_codepoints, split_of
from lookimagine.data.emoji_set import EMOJI_ATTRIBUTION, EMOJI_LICENCE, EmojiDataset


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


# --------------------------------------------------------------------------- other artists' styles
# Fixture packages in tmp_path mimic each npm source's layout; npm itself is replaced by a copy, so
# nothing here needs npm, the network or the real artwork. The real caches are checked when present.

import io
import tarfile
from dataclasses import replace

from lookimagine.data import emoji_styles
from lookimagine.data.cache import read_json
from lookimagine.data.emoji_names import normalise_id
from lookimagine.data.emoji_set import STYLE_ATTRIBUTIONS, STYLE_LICENCES
from lookimagine.data.emoji_styles import ChecksumError, MissingToolError

_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {w}"><circle cx="{c}" cy="{c}" r="{r}" fill="{fill}"/></svg>'

# (file name as the source spells it, the normalised id it must get)
TWEMOJI_FILES = {
    "1f600.svg": "1F600",
    "1f468-200d-1f692.svg": "1F468-200D-1F692",
    "2764.svg": "2764-FE0F",  # Twemoji drops FE0F
    "0031-20e3.svg": "0031-FE0F-20E3",
    "1f308.svg": "1F308",
    "1f932.svg": "1F932",
    "1f9e1.svg": "1F9E1",
    "1f1e9-1f1ea.svg": "1F1E9-1F1EA",
    "e000.svg": None,  # not an emoji: skipped as unnamed
}
FLUENT_FILES = {
    "assets/1f600.svg": "1F600",
    "assets/2764-fe0f.svg": "2764-FE0F",
    "assets/0031-fe0f-20e3.svg": "0031-FE0F-20E3",
    "assets/1f308.svg": "1F308",
    "assets/1f9e1.svg": "1F9E1",
    "assets/1f1e9-1f1ea.svg": None,  # on a 1200-unit canvas: not Microsoft's art, skipped as foreign_art
}


def _tarball(path, files, width):
    with tarfile.open(path, "w:gz") as tar:
        for k, name in enumerate(files):
            w = 1200 if "1f1e9" in name and width == 32 else width
            data = _SVG.format(w=w, c=w / 2, r=w * 0.4, fill=f"#{(40 * k) % 200:02x}4080").encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return emoji_styles._sha256_file(path)


@pytest.fixture()
def cairo():
    try:
        import cairosvg  # noqa: F401  (needs the system's libcairo2)
    except (ImportError, OSError) as err:
        pytest.skip(f"cairosvg cannot render here: {err}")


@pytest.fixture()
def fake_npm(tmp_path, monkeypatch):
    """Pin the npm styles to fixture tarballs and replace ``npm pack`` by a copy; returns the pack log."""
    packs = []
    sources = {}
    for style, files, width in (("twemoji", TWEMOJI_FILES, 36), ("fluent", FLUENT_FILES, 32)):
        path = tmp_path / "registry" / f"{style}.tgz"
        path.parent.mkdir(exist_ok=True)
        sha = _tarball(path, files, width)
        monkeypatch.setitem(emoji_styles.STYLES, style, replace(emoji_styles.STYLES[style], sha256=sha))
        sources[style] = path

    def npm_pack(spec, dest):
        packs.append(spec.name)
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(sources[spec.name], dest / spec.tarball)
        return dest / spec.tarball

    monkeypatch.setattr(emoji_styles, "_npm_pack", npm_pack)
    return packs


@pytest.mark.parametrize(
    "raw, code",
    [
        ("1f468-200d-1f692", "1F468-200D-1F692"),  # Twemoji: lower case
        ("1F468-200D-1F692", "1F468-200D-1F692"),  # OpenMoji
        ("2764", "2764-FE0F"),
        ("2764-fe0f", "2764-FE0F"),
        ("0031-20e3", "0031-FE0F-20E3"),
        ("1f3f3-200d-1f308", "1F3F3-FE0F-200D-1F308"),
        ("1f441-200d-1f5e8", "1F441-FE0F-200D-1F5E8-FE0F"),
        ("1f3f4-e0067_e0062_e0073_e0063_e0074_e007f", "1F3F4-E0067-E0062-E0073-E0063-E0074-E007F"),
        ("1f600", "1F600"),
    ],
)
def test_ids_normalise_across_sources(raw, code):
    assert normalise_id(raw) == code
    assert normalise_id(code) == code  # idempotent
    assert cldr_name(from_codepoints(normalise_id(raw))) is not None


def test_styles_share_codes_captions_and_splits(rendered, fake_npm, cairo):
    root, openmoji = rendered
    by_split = {}
    for split in ("train", "val", "test"):
        d = EmojiDataset(split, styles=("openmoji", "twemoji", "fluent"), cache_dir=root)
        assert d.styles == ("openmoji", "twemoji", "fluent")
        assert {d.style_of(i) for i in range(len(d))} <= {"openmoji", "twemoji", "fluent"}
        assert len({d.id_of(i) for i in range(len(d))}) == len(d)  # ids unique per item
        assert all(split_of(d.code_of(i)) == split for i in range(len(d)))
        by_split[split] = d
    assert sorted(fake_npm) == ["fluent", "twemoji"]  # fetched once each, for all splits
    om_names = {openmoji.id_of(i): openmoji.captions_of(i)[0] for i in range(len(openmoji))}
    codes = {s: {d.code_of(i) for i in range(len(d))} for s, d in by_split.items()}
    assert not codes["train"] & codes["test"] and not codes["train"] & codes["val"] and not codes["val"] & codes["test"]
    seen = {}
    for d in by_split.values():
        for i in range(len(d)):
            if d.style_of(i) != "openmoji":
                assert d.id_of(i) == f"{d.style_of(i)}/{d.code_of(i)}"
                assert d.captions_of(i) == (om_names[d.code_of(i)],)  # same caption as OpenMoji's drawing
                seen.setdefault(d.style_of(i), set()).add(d.code_of(i))
                assert d.emoji_of(i) == from_codepoints(d.code_of(i))
    assert seen["twemoji"] == {c for c in TWEMOJI_FILES.values() if c}
    assert seen["fluent"] == {c for c in FLUENT_FILES.values() if c}
    assert "1F308" in codes["test"] and "1F9E1" in codes["val"]  # golden splits hold in every style
    everything = EmojiDataset("all", styles="twemoji,fluent", cache_dir=root)
    assert everything.skipped_by_style["twemoji"]["unnamed"] == 1
    assert everything.skipped_by_style["fluent"]["foreign_art"] == 1
    images = everything.images
    assert images.shape == (len(everything), 64, 64, 3) and (images[:, 0, 0] == 255).all()  # white, centred
    assert (images.reshape(len(images), -1).min(axis=1) < 200).all()  # every drawing has ink


def test_default_styles_are_openmoji_only(rendered):
    root, openmoji = rendered
    d = EmojiDataset("test", cache_dir=root)
    assert d.styles == ("openmoji",) and all(d.style_of(i) == "openmoji" for i in range(len(d)))
    assert d.id_of(0) == d.code_of(0)  # OpenMoji keeps its bare ids
    with pytest.raises(ValueError, match="held-out"):
        EmojiDataset("train", styles=("noto",), cache_dir=root)
    with pytest.raises(ValueError, match="unknown emoji style"):
        EmojiDataset("train", styles=("apple",), cache_dir=root)


def test_missing_npm_names_npm_and_the_style(tmp_path, monkeypatch):
    monkeypatch.setattr(emoji_styles.shutil, "which", lambda name: None)
    with pytest.raises(MissingToolError) as err:
        emoji_styles.fetch_style("twemoji", tmp_path)
    message = str(err.value)
    assert "npm" in message and "twemoji" in message and "@twemoji/svg@15.0.0" in message
    assert "apt-get install -y npm" in message and "fetch-styles" in message


def test_missing_npm_cli_exits_with_the_message(tmp_path, monkeypatch, capsys):
    from lookimagine.data import __main__ as cli

    monkeypatch.setenv("LOOKIMAGINE_CACHE", str(tmp_path))
    monkeypatch.setattr(emoji_styles.shutil, "which", lambda name: None)
    assert cli.main(["fetch-styles", "--styles", "fluent"]) == 2
    assert "npm is not installed" in capsys.readouterr().err


def test_missing_noto_font_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(emoji_styles, "NOTO_FONT_PATHS", (tmp_path / "NotoColorEmoji.ttf",))
    with pytest.raises(MissingToolError) as err:
        EmojiDataset("test-style", cache_dir=tmp_path)
    assert "fonts-noto-color-emoji" in str(err.value) and "apt-get install -y fonts-noto-color-emoji" in str(err.value)


def test_checksum_mismatch_is_refused(tmp_path, fake_npm, monkeypatch):
    spec = emoji_styles.STYLES["twemoji"]
    monkeypatch.setitem(emoji_styles.STYLES, "twemoji", replace(spec, sha256="0" * 64))
    with pytest.raises(ChecksumError, match="@twemoji/svg@15.0.0"):
        emoji_styles.fetch_style("twemoji", tmp_path)
    assert not (emoji_styles.styles_root(tmp_path) / "twemoji-15.0.0").exists()  # nothing extracted
    assert not (emoji_styles.styles_root(tmp_path) / spec.tarball).exists()  # the bad tarball is set aside


def test_a_verified_tarball_is_used_without_npm(tmp_path, fake_npm, monkeypatch):
    emoji_styles.fetch_style("fluent", tmp_path)
    extracted = emoji_styles.styles_root(tmp_path) / "fluent-1.1.0"
    shutil.rmtree(extracted)
    monkeypatch.setattr(emoji_styles.shutil, "which", lambda name: None)
    assert emoji_styles.fetch_style("fluent", tmp_path) == extracted  # from the cached tarball, no npm
    assert fake_npm == ["fluent"]


def test_noto_test_style_split(rendered):
    try:
        emoji_styles.noto_font_path()
    except MissingToolError:
        pytest.skip("fonts-noto-color-emoji is not installed")
    root, openmoji = rendered
    noto = EmojiDataset("test-style", cache_dir=root)
    assert noto.styles == ("noto",) and noto.split == "test-style" and len(noto) > 400
    assert all(split_of(noto.code_of(i)) == "test" and noto.style_of(i) == "noto" for i in range(len(noto)))
    om_names = {openmoji.id_of(i): openmoji.captions_of(i)[0] for i in range(len(openmoji))}
    shared = [i for i in range(len(noto)) if noto.code_of(i) in om_names]
    assert len(shared) > 0.9 * len(noto)
    assert all(noto.captions_of(i) == (om_names[noto.code_of(i)],) for i in shared)
    images = noto.images
    assert (images[:, 0, 0] == 255).all() and (images[:, -1, -1] == 255).all()


def test_real_style_caches_agree_when_present():
    """The caches on this machine (if any were rendered): same splits and captions as OpenMoji's."""
    from lookimagine.data.cache import cache_dir

    root = cache_dir()
    om = emoji_set.read_cache(root / emoji_set._cache_key(64), 64)
    metas = {}
    for style in ("twemoji", "fluent"):
        spec = emoji_styles.STYLES[style]
        folder = root / emoji_styles.cache_key(style, 64, spec.sha256)
        if (folder / "meta.json").is_file():
            metas[style] = read_json(folder / "meta.json")
    if om is None or not metas:
        pytest.skip("no rendered style caches here (run `python -m lookimagine.data fetch-styles`)")
    om_names = dict(zip(om[1]["ids"], om[1]["names"]))
    for style, meta in metas.items():
        assert meta["splits"] == [split_of(c) for c in meta["ids"]], style
        assert len(set(meta["ids"])) == len(meta["ids"])
        assert all(om_names.get(c, n) == n for c, n in zip(meta["ids"], meta["names"])), style
        assert sum(c in om_names for c in meta["ids"]) > 0.9 * len(meta["ids"]), style


def test_style_licences_and_attributions():
    assert "CC-BY 4.0" in STYLE_LICENCES["twemoji"]
    assert "Copyright 2020 Twitter, Inc and other contributors, graphics licensed under CC-BY 4.0" in STYLE_ATTRIBUTIONS["twemoji"]
    assert "MIT" in STYLE_LICENCES["fluent"] and "Microsoft" in STYLE_LICENCES["fluent"]
    assert "Open Font License 1.1" in STYLE_LICENCES["noto"] and "Google" in STYLE_LICENCES["noto"]
    assert "OpenMoji" in STYLE_LICENCES["openmoji"]
