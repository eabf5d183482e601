"""Checks every query passes before a model sees it.

Shared by the real pipeline and ``FakePipeline``, so that the app (and its
tests on the fake) see the same messages for the same bad input:

* ``clean_text``: empty / whitespace text is refused; long text is truncated
  with a notice; control characters are dropped and spaces collapsed.
* ``unknown_words_notice`` / ``no_known_words_error``: words outside the
  vocabulary are reported, and a query with no known word is refused.
* ``load_query_image``: an uploaded file, bytes or a PIL image becomes an RGB
  ``PIL.Image``; non-images, corrupt files and images over a pixel limit are
  refused *before* decoding the pixels. Odd modes (RGBA, palette, CMYK,
  16-bit, grayscale, animated) are converted, not refused.

Every refusal is a ``QueryError`` whose message is meant for a person.
"""

from __future__ import annotations

import io
import re
import unicodedata
import warnings
from collections.abc import Iterable
from os import PathLike
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from .outputs import QueryError

#: defaults for pipelines that do not choose their own
MAX_TEXT_CHARS = 200
MAX_PIXELS = 4096 * 4096  # ~16.8 megapixels: any photo a phone takes, not a decompression bomb

_SPACES = re.compile(r"\s+")

ImageSource = str | PathLike | bytes | io.IOBase | Image.Image


def clean_text(text: object, max_chars: int = MAX_TEXT_CHARS) -> tuple[str, tuple[str, ...]]:
    """Normalise a text query; return ``(text, notices)``.

    Raises ``QueryError`` for a missing, empty or whitespace-only query. Text
    longer than ``max_chars`` (after cleaning) is cut to ``max_chars``
    characters and a notice says so.
    """
    if text is None:
        raise QueryError("The query is empty: type a sentence that describes a picture.")
    if not isinstance(text, str):
        raise QueryError(f"A text query must be a string, not {type(text).__name__}.")
    # Drop control and format characters (category C*), keep letters, marks, punctuation.
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    kept = _SPACES.sub(" ", unicodedata.normalize("NFC", kept)).strip()
    if not kept:
        raise QueryError("The query is empty: type a sentence that describes a picture.")
    notices: list[str] = []
    if len(kept) > max_chars:
        kept = kept[:max_chars].rstrip()
        notices.append(f"Query truncated to {max_chars} characters.")
    return kept, tuple(notices)


def unknown_words_notice(unknown: Iterable[str], limit: int = 12) -> str | None:
    """``"Unknown words ignored: foo, bar"`` (first occurrences, in order), or None."""
    seen = list(dict.fromkeys(unknown))
    if not seen:
        return None
    shown = ", ".join(seen[:limit]) + (f" (+{len(seen) - limit} more)" if len(seen) > limit else "")
    return f"Unknown words ignored: {shown}"


def no_known_words_error(vocabulary_size: int) -> QueryError:
    """The error for a query in which the model knows no word at all."""
    return QueryError(
        f"None of the words in the query are in the model's vocabulary ({vocabulary_size:,} words). "
        "Try one of the examples, or describe colours, shapes and positions."
    )


# ---------------------------------------------------------------------------
# Images


def load_query_image(source: ImageSource, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open a query image as RGB, or raise ``QueryError``.

    Uses ``lookimagine.data.images.open_image`` when that module is present,
    so the app and the datasets share one reader; its ``ImageError`` becomes a
    ``QueryError``. Otherwise falls back to the reader below (same checks).
    """
    if source is None:
        raise QueryError("No image: upload a picture (PNG, JPEG, GIF, WebP) or pick an example.")
    try:
        from lookimagine.data.images import ImageError, open_image
    except ImportError:
        return _open_image(source, max_pixels)
    try:
        return open_image(source, max_pixels=max_pixels)
    except ImageError as err:
        raise QueryError(str(err)) from err


def _open_image(source: ImageSource, max_pixels: int) -> Image.Image:
    """Header first, pixel limit, then decode; convert odd modes to RGB."""
    if isinstance(source, Image.Image):
        _check_pixels(source.size, max_pixels)
        return to_rgb(source)
    if isinstance(source, (bytes, bytearray)):
        fp: object = io.BytesIO(source)
    elif isinstance(source, (str, PathLike)):
        path = Path(source)
        if not path.is_file():
            raise QueryError("The uploaded image could not be found on the server; upload it again.")
        fp = path
    else:
        fp = source
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(fp)  # reads the header only
        except Image.DecompressionBombError as err:
            raise QueryError(f"The image is too large to open safely ({err}).") from err
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as err:
            raise QueryError(
                "This file is not an image that can be read (use PNG, JPEG, GIF, WebP or BMP)."
            ) from err
        _check_pixels(im.size, max_pixels)
        try:
            im.seek(0)  # animated images: the first frame
            im.load()
        except Exception as err:  # Pillow raises OSError, SyntaxError, ValueError, struct.error, ...
            raise QueryError("The image file is corrupt or truncated and cannot be decoded.") from err
    return to_rgb(im)


def _check_pixels(size: tuple[int, int], max_pixels: int) -> None:
    w, h = size
    if w <= 0 or h <= 0:
        raise QueryError("The image is empty (zero width or height).")
    if w * h > max_pixels:
        raise QueryError(
            f"The image is too large: {w:,}×{h:,} pixels; the limit is {max_pixels:,} pixels. "
            "Resize it and try again."
        )


def to_rgb(im: Image.Image) -> Image.Image:
    """RGB copy of any Pillow mode: alpha composited on white, 16-bit and float scaled to 8-bit."""
    try:
        im = ImageOps.exif_transpose(im)  # phone photos store their rotation in EXIF
    except Exception:  # a broken EXIF block is no reason to refuse the picture
        pass
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        a = np.asarray(im, dtype=np.float64)
        lo, hi = float(a.min()), float(a.max())
        a = (a - lo) / (hi - lo) * 255.0 if hi > lo else np.zeros_like(a)
        im = Image.fromarray(a.astype(np.uint8), mode="L")
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(background, rgba)
    return im.convert("RGB")
