"""Checks every query passes before a model sees it: the one home of the input bounds.

Shared by the real pipeline and ``FakePipeline``, so that the app sees the
same messages for the same bad input:

* ``check_numbers``: k (1..``MAX_K``), seed (0..``MAX_SEED``) and the number of
  imagined images (1..``MAX_IMAGES``) go through ``whole_number``, the one
  coercion policy for every number: an int, a float with no fraction, or a
  string holding one; never a bool, None, NaN, ±Infinity, a list or a dict.

* ``clean_text``: empty / whitespace text is refused; long text is cut
  *before* it is cleaned (so 10 MB of text costs what 2 KB does) and then
  truncated with a notice; control characters are dropped and spaces collapsed.
  Text that is not a string (a list, a number) is refused, not stringified.
* ``unknown_words_notice`` / ``no_known_words_error``: words outside the
  vocabulary are reported, and a query with no known word is refused.
* ``load_query_image``: an uploaded file, bytes or a PIL image becomes an RGB
  ``PIL.Image`` through ``lookimagine.data.images.open_image``: non-images,
  corrupt files and images over ``MAX_PIXELS`` are refused from the header,
  *before* decoding; a JPEG is decoded at reduced scale (at least
  ``QUERY_SIDE`` pixels a side), any other format over ``MAX_DECODE_PIXELS``
  is refused before decoding, so one query never holds more than ~64 MB of
  pixels; odd modes are converted, not refused. Its ``ImageError`` becomes a
  ``QueryError``.

Every refusal is a ``QueryError`` whose message is meant for a person.
"""

from __future__ import annotations

import io
import math
import numbers
import os
import re
import unicodedata
from collections.abc import Iterable
from os import PathLike

from PIL import Image

from . import messages
from .outputs import QueryError

#: bounds of a query: characters of text (longer is truncated), results, imagined pictures
MAX_TEXT_CHARS = 200
#: raw characters looked at before cleaning: a bound on the work, whatever the request's size
MAX_RAW_CHARS = 8 * MAX_TEXT_CHARS
MAX_K, MAX_IMAGES, MAX_SEED = 50, 8, 2**32 - 1
# Same as lookimagine.data.images.MAX_PIXELS (not imported here: that module pulls in torch).
MAX_PIXELS = 40_000_000
#: formats Pillow cannot decode at reduced scale (all but JPEG) are refused above this
MAX_DECODE_PIXELS = 16_000_000
#: a query image is decoded / reduced to no less than this on its shorter side (the models use ≤ 256)
QUERY_SIDE = 512
_INTEGER = re.compile(r"[+-]?\d{1,30}(\.0*)?")

_SPACES = re.compile(r"\s+")

ImageSource = str | PathLike | bytes | io.IOBase | Image.Image


def clean_text(text: object, max_chars: int = MAX_TEXT_CHARS) -> tuple[str, tuple[str, ...]]:
    """Normalise a text query; return ``(text, notices)``.

    Raises ``QueryError`` for a missing, empty or whitespace-only query. Text
    longer than ``max_chars`` (after cleaning) is cut to ``max_chars``
    characters and a notice says so.
    """
    if text is None:
        raise QueryError(messages.EMPTY_QUERY)
    if not isinstance(text, str):
        raise QueryError(messages.NOT_TEXT.format(kind=type(text).__name__))
    cut = len(text) > MAX_RAW_CHARS
    text = text[:MAX_RAW_CHARS]  # the rest would be truncated anyway: never clean it
    # Drop control and format characters (category C*), keep letters, marks, punctuation.
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    kept = _SPACES.sub(" ", unicodedata.normalize("NFC", kept)).strip()
    if not kept:
        raise QueryError(messages.EMPTY_QUERY)
    notices: list[str] = []
    if len(kept) > max_chars or cut:
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
    return QueryError(messages.NO_KNOWN_WORDS.format(size=vocabulary_size))


# ---------------------------------------------------------------------------
# Numbers


def check_numbers(k=5, seed=0, n_images=1) -> tuple[int, int, int]:
    """``(k, seed, n_images)`` as ints within their bounds, or a ``QueryError`` naming the first bad one."""
    return (whole_number(k, 1, MAX_K, "k (how many results)"), whole_number(seed, 0, MAX_SEED, "The seed"),
            whole_number(n_images, 1, MAX_IMAGES, "The number of imagined images"))


def whole_number(value, low: int, high: int, what: str) -> int:
    """``value`` as an int in ``low..high``, or a ``QueryError``: the one coercion policy for numbers.

    Accepted: an int; a finite float with no fraction (2.0, as JSON and sliders send); a string
    holding one of those ("3", " 3.0 "). Refused: bools, None, NaN, ±Infinity, 2.5, lists, dicts,
    anything else — with the same sentence whatever the type, so the API and the page agree.
    """
    bad = QueryError(messages.NOT_WHOLE.format(what=what, low=low, high=high))
    if isinstance(value, str):
        value = value.strip()
        if not _INTEGER.fullmatch(value):
            raise bad
        value = int(value.split(".")[0])
    if isinstance(value, bool) or not isinstance(value, numbers.Real):  # numpy numbers are Real too
        raise bad
    if not isinstance(value, numbers.Integral):
        value = float(value)
        if not math.isfinite(value) or not value.is_integer():
            raise bad
    value = int(value)
    if not low <= value <= high:
        raise QueryError(messages.OUT_OF_RANGE.format(what=what, low=low, high=high))
    return value


# ---------------------------------------------------------------------------
# Images


def load_query_image(source: ImageSource, max_pixels: int = MAX_PIXELS) -> Image.Image:
    """Open a query image as RGB with ``lookimagine.data.images.open_image``, or raise ``QueryError``.

    The header is read first and an image over ``max_pixels`` is refused
    before its pixels are decoded; non-images and corrupt files are refused;
    odd modes (RGBA, palette, CMYK, 16-bit, grey, animated) become RGB. A
    file path is not repeated in the message (it is the server's temp path).
    """
    if source is None:
        raise QueryError(messages.NO_IMAGE)
    from lookimagine.data.images import ImageError, open_image  # imports torch: only when needed

    try:
        return open_image(source, max_pixels=max_pixels, max_side=QUERY_SIDE, max_decode_pixels=MAX_DECODE_PIXELS)
    except ImageError as err:
        message = str(err)
        if isinstance(source, (str, PathLike)):
            message = message.replace(f"'{os.fspath(source)}'", "the uploaded file")
        raise QueryError(_sentence(message)) from err


def _sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
