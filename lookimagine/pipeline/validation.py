"""Checks every query passes before a model sees it: the one home of the input bounds.

Shared by the real pipeline and ``FakePipeline``, so that the app sees the
same messages for the same bad input:

* ``check_numbers``: k (1..``MAX_K``), seed (≥ 0) and the number of imagined
  images (1..``MAX_IMAGES``) are whole numbers in range.

* ``clean_text``: empty / whitespace text is refused; long text is truncated
  with a notice; control characters are dropped and spaces collapsed.
* ``unknown_words_notice`` / ``no_known_words_error``: words outside the
  vocabulary are reported, and a query with no known word is refused.
* ``load_query_image``: an uploaded file, bytes or a PIL image becomes an RGB
  ``PIL.Image`` through ``lookimagine.data.images.open_image`` (non-images,
  corrupt files and images over a pixel limit refused *before* decoding;
  odd modes converted, not refused), its ``ImageError`` a ``QueryError``.

Every refusal is a ``QueryError`` whose message is meant for a person.
"""

from __future__ import annotations

import io
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
MAX_K, MAX_IMAGES = 50, 8
# Same as lookimagine.data.images.MAX_PIXELS (not imported here: that module pulls in torch).
MAX_PIXELS = 40_000_000

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
        raise QueryError(f"A text query must be a string, not {type(text).__name__}.")
    # Drop control and format characters (category C*), keep letters, marks, punctuation.
    kept = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    kept = _SPACES.sub(" ", unicodedata.normalize("NFC", kept)).strip()
    if not kept:
        raise QueryError(messages.EMPTY_QUERY)
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
    return QueryError(messages.NO_KNOWN_WORDS.format(size=vocabulary_size))


# ---------------------------------------------------------------------------
# Numbers


def check_numbers(k=5, seed=0, n_images=1) -> tuple[int, int, int]:
    """``(k, seed, n_images)`` as ints within their bounds, or a ``QueryError`` naming the first bad one."""
    return (whole_number(k, 1, MAX_K, "k (how many results)"), whole_number(seed, 0, 2**63 - 1, "The seed"),
            whole_number(n_images, 1, MAX_IMAGES, "The number of imagined images"))


def whole_number(value, low: int, high: int, what: str) -> int:
    """``value`` as an int in ``low..high`` (a float with no fraction counts), or a ``QueryError``."""
    try:
        number = int(value)
        if number != value and not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError, OverflowError):
        raise QueryError(messages.NOT_WHOLE.format(what=what, low=low, high=high)) from None
    if not low <= number <= high:
        raise QueryError(messages.OUT_OF_RANGE.format(what=what, low=low, high=high))
    return number


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
        return open_image(source, max_pixels=max_pixels)
    except ImageError as err:
        message = str(err)
        if isinstance(source, (str, PathLike)):
            message = message.replace(f"'{os.fspath(source)}'", "the uploaded file")
        raise QueryError(_sentence(message)) from err


def _sentence(message: str) -> str:
    message = message.strip()
    message = message[:1].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
