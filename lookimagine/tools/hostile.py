"""Hostile and odd images, generated on demand: for the fuzz tests and ``python -m lookimagine.tools.stress``.

Nothing here is shipped or downloaded; ``write_corpus(folder)`` writes every
case once (and reuses what is there). Each ``Case`` says whether a query with
it must be answered (``ok``: odd but valid) or refused with a readable
message (``refused``), and a phrase that message must contain.

The bombs are cheap to write: a PNG's header is all the app may read of them.
``png16_rgba_6300`` is the exception: a *valid* 6300×6300 16-bit RGBA PNG of
309 KB whose full decode costs ~650 MB, under the 40-megapixel limit, which
is what found the hole in the first place.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw


@dataclass(frozen=True)
class Case:
    name: str  # file name, with the extension the upload would have
    make: Callable[[], bytes]
    ok: bool  # True: must be answered; False: must be refused
    says: str = ""  # a phrase the refusal's message contains


# --------------------------------------------------------------------------- builders


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_header_only(width: int, height: int, bit_depth: int = 8, colour: int = 2) -> bytes:
    """A PNG whose header claims ``width × height`` and whose pixel data is a few bytes: a bomb's shape."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _png_chunk(b"IEND", b""))


def png_zeros(width: int, height: int, bit_depth: int = 16, colour: int = 6) -> bytes:
    """A valid, all-zero PNG (16-bit RGBA by default), compressed row by row: tiny on disk, huge decoded."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    row = b"\0" * (1 + width * channels * bit_depth // 8)  # filter byte + pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def _save(image: Image.Image, fmt: str, **kwargs) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kwargs)
    return buffer.getvalue()


def _picture(size=(96, 64), mode="RGB") -> Image.Image:
    """A small picture with something on it: a red disc on a blue square."""
    image = Image.new("RGB", size, (240, 240, 240))
    draw = ImageDraw.Draw(image)
    draw.rectangle((8, 8, size[0] // 2, size[1] - 8), fill=(40, 60, 200))
    draw.ellipse((size[0] // 2, 10, size[0] - 8, size[1] - 10), fill=(220, 30, 30))
    return image.convert(mode)


def _animated(fmt: str) -> bytes:
    frames = [_picture(), _picture().rotate(90), _picture().transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return _save(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise on display
    return _save(_picture(), "JPEG", exif=exif)


def _palette_transparent() -> bytes:
    image = _picture().convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    return _save(image, "PNG", transparency=0)


def _grey16() -> bytes:
    return _save(_picture().convert("L").point(lambda v: v * 256).convert("I;16"), "PNG")


def _big_jpeg(width: int = 6000, height: int = 4000) -> bytes:
    """A 24-megapixel photo-sized JPEG: accepted, decoded at 1/8 scale."""
    return _save(_picture().resize((width, height)), "JPEG", quality=70)


def _truncated(fmt: str) -> bytes:
    data = _save(_picture((256, 256)), fmt)
    return data[: len(data) // 2]


CASES: tuple[Case, ...] = (
    # odd but valid: answered
    Case("rgba.png", lambda: _save(_picture(mode="RGBA"), "PNG"), True),
    Case("grey_alpha.png", lambda: _save(_picture(mode="LA"), "PNG"), True),
    Case("palette_transparent.png", _palette_transparent, True),
    Case("grey16.png", _grey16, True),
    Case("one_bit.png", lambda: _save(_picture(mode="1"), "PNG"), True),
    Case("cmyk.jpg", lambda: _save(_picture(mode="CMYK"), "JPEG"), True),
    Case("animated.gif", lambda: _animated("GIF"), True),
    Case("animated.webp", lambda: _animated("WEBP"), True),
    Case("exif_rotated.jpg", _exif_rotated, True),
    Case("photo_24mp.jpg", _big_jpeg, True),
    # hostile or broken: refused, in the app's words
    Case("png16_rgba_6300.png", lambda: png_zeros(6300, 6300), False, "too large to decode"),
    Case("over_limit.png", lambda: png_header_only(8000, 8000), False, "too large"),
    Case("pillow_bomb.png", lambda: png_header_only(20000, 20000), False, "the limit is 40,000,000"),
    Case("truncated.png", lambda: _truncated("PNG"), False, "not a readable image"),
    Case("truncated.jpg", lambda: _truncated("JPEG"), False, "not a readable image"),
    Case("not_an_image.png", lambda: b"just some text, not pixels\n" * 10, False, "not a readable image"),
    Case("empty.png", lambda: b"", False, "not a readable image"),
    Case("vector.svg", lambda: b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>', False,
         "not a readable image"),
    Case("postscript.png", lambda: b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", False,
         "not a readable image"),
)


def write_corpus(folder: str | Path, names: set[str] | None = None) -> dict[str, tuple[Path, Case]]:
    """Write the cases (or only ``names``) into ``folder`` once; name → (path, case)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    corpus = {}
    for case in CASES:
        if names is not None and case.name not in names:
            continue
        path = folder / case.name
        if not path.exists():
            path.write_bytes(case.make())
        corpus[case.name] = (path, case)
    return corpus
